//! The header rules the gateway applies to edits, for validating header names in a plugin's
//! config at `init` instead of failing on every request.

/// Whether `name` is a valid HTTP header name: a non-empty RFC 9110 token (letters, digits and
/// ``!#$%&'*+-.^_`|~``). Upper-case letters are valid; the gateway lower-cases names.
///
/// ```
/// use wasmgate_plugin_sdk::header::is_valid_name;
/// assert!(is_valid_name("x-api-key"));
/// assert!(!is_valid_name("x api key") && !is_valid_name(""));
/// ```
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// Whether `value` is a valid HTTP header value: visible ASCII, spaces, tabs and bytes from
/// 0x80 up; no control characters (so no CR/LF header injection).
pub fn is_valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&byte| byte == b'\t' || (byte >= 0x20 && byte != 0x7f))
}

/// Whether `byte` may appear in an RFC 9110 token (header names, methods).
pub(crate) fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_separators_and_controls_in_names() {
        for name in ["x y", "x:y", "x\r\n", "(x)", "é"] {
            assert!(!is_valid_name(name), "{name:?}");
        }
        assert!(is_valid_name("X-Forwarded-For"));
    }

    #[test]
    fn rejects_line_breaks_in_values() {
        assert!(is_valid_value(b"a b\tc \xff"));
        assert!(!is_valid_value(b"a\r\nset-cookie: x"));
        assert!(!is_valid_value(b"\0"));
    }
}
