//! Header names and values a plugin may write.

/// Headers that frame the message or describe the connection. The gateway owns them (it fixes
/// `content-length` when a body is replaced, and never forwards hop-by-hop headers as
/// received), so a plugin may not edit them. Lower-case.
pub const MANAGED: [&str; 10] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` (any case) is one of the [`MANAGED`] headers.
#[inline]
pub fn is_managed(name: &str) -> bool {
    MANAGED
        .iter()
        .any(|managed| managed.eq_ignore_ascii_case(name))
}

/// Whether `name` is a valid HTTP header name: a non-empty RFC 9110 token (letters, digits and
/// ``!#$%&'*+-.^_`|~``). Upper-case letters are valid; hosts lower-case names.
#[inline]
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// Whether `value` is a valid HTTP header value: visible ASCII, spaces, tabs and bytes from
/// 0x80 up; no control characters (so no CR/LF header injection).
#[inline]
pub fn is_valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&byte| byte == b'\t' || (byte >= 0x20 && byte != 0x7f))
}

/// Whether `byte` may appear in an RFC 9110 token (header names, methods). A table lookup:
/// the host checks every byte of every header name a plugin writes.
#[inline]
pub fn is_token_byte(byte: u8) -> bool {
    TOKEN_BYTES[usize::from(byte)]
}

/// [`is_token_byte`] for every byte: letters, digits and ``!#$%&'*+-.^_`|~``.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        byte += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_table_is_rfc_9110s_tchar() {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for byte in 0..=255u8 {
            assert_eq!(is_token_byte(byte), tchar(byte), "byte {byte:#04x}");
        }
    }

    #[test]
    fn managed_headers_are_matched_in_any_case() {
        assert!(is_managed("Content-Length") && is_managed("transfer-encoding"));
        assert!(!is_managed("content-type") && !is_managed("x-connection"));
    }

    #[test]
    fn names_are_tokens_and_values_have_no_controls() {
        assert!(is_valid_name("X-Api-Key") && !is_valid_name("x api") && !is_valid_name(""));
        assert!(
            is_valid_value(b"a\tb \xff") && !is_valid_value(b"a\r\nb") && !is_valid_value(b"\x7f")
        );
    }
}
