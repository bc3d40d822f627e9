//! What an edit may write, and the message each refusal carries (`edit-error::invalid`).
//!
//! Both hosts check that the stage allows the edit first (`edit-error::read-only`), then these
//! rules, so the same edit gets the same answer from either.

use crate::headers;

/// The statuses a plugin may set or answer with: final statuses only (a 1xx is not an answer).
pub const FINAL_STATUSES: std::ops::RangeInclusive<u16> = 200..=599;

/// A method: a non-empty RFC 9110 token, e.g. `PATCH`.
pub fn check_method(method: &str) -> Result<(), String> {
    if method.is_empty() || !method.bytes().all(headers::is_token_byte) {
        return Err(format!("`{method}` is not a valid HTTP method"));
    }
    Ok(())
}

/// Whether `byte` may stand unencoded in a path or query the gateway forwards: visible ASCII
/// but for the characters URIs never carry raw (`"`, `<`, `>`, `` ` ``).
fn is_uri_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && !b"\"<>`".contains(&byte)
}

/// A path: starts with `/`, URI characters only (percent-encode the rest), no query or
/// fragment.
pub fn check_path(path: &str) -> Result<(), String> {
    let valid = path
        .bytes()
        .all(|byte| is_uri_byte(byte) && byte != b'?' && byte != b'#');
    if !path.starts_with('/') || !valid {
        return Err(format!(
            "`{path}` is not a valid path: it must start with `/` and hold visible ASCII only, \
             with no `?`, `#`, `\"`, `<`, `>` or `` ` `` (percent-encode the rest)"
        ));
    }
    Ok(())
}

/// A raw query string (without `?`): URI characters only, no fragment. Empty is valid.
pub fn check_query(query: &str) -> Result<(), String> {
    if !query.bytes().all(|byte| is_uri_byte(byte) && byte != b'#') {
        return Err(format!(
            "`{query}` is not a valid query string: visible ASCII only, with no `#`, `\"`, \
             `<`, `>` or `` ` `` (percent-encode the rest)"
        ));
    }
    Ok(())
}

/// A status a plugin sets or answers with: one of the [`FINAL_STATUSES`].
pub fn check_status(status: u16) -> Result<(), String> {
    if !FINAL_STATUSES.contains(&status) {
        return Err(format!("{status} is not a valid final status (200–599)"));
    }
    Ok(())
}

/// A header name a plugin edits: valid, and not one the gateway manages.
#[inline]
pub fn check_header_name(name: &str) -> Result<(), String> {
    if !headers::is_valid_name(name) {
        return Err(format!("`{name}` is not a valid header name"));
    }
    if headers::is_managed(name) {
        return Err(format!(
            "`{}` is managed by the gateway (message framing / connection header)",
            name.to_ascii_lowercase()
        ));
    }
    Ok(())
}

/// A header value a plugin writes under `name`.
#[inline]
pub fn check_header_value(name: &str, value: &[u8]) -> Result<(), String> {
    if !headers::is_valid_value(value) {
        return Err(format!("invalid value for header `{name}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_accepts_the_usual_and_names_what_it_refuses() {
        assert!(check_method("PATCH").is_ok());
        assert_eq!(
            check_method("GE T").unwrap_err(),
            "`GE T` is not a valid HTTP method"
        );
        assert!(check_path("/v1/orders/%20").is_ok() && check_path("orders").is_err());
        assert!(
            check_path("/a?b").is_err()
                && check_path("/a#b").is_err()
                && check_path("/a b").is_err()
        );
        assert!(check_query("a=1&b=%23").is_ok() && check_query("").is_ok());
        assert!(check_query("a=1#x").is_err() && check_query("a b").is_err());
        assert!(check_path("/a<b>").is_err() && check_query("q=\"x\"").is_err());
        assert!(check_status(200).is_ok() && check_status(599).is_ok());
        assert!(check_status(101).is_err() && check_status(600).is_err());
        assert!(check_header_name("X-Tag").is_ok());
        assert_eq!(
            check_header_name("Content-Length").unwrap_err(),
            "`content-length` is managed by the gateway (message framing / connection header)"
        );
        assert!(check_header_value("x", b"a\nb").is_err());
    }
}
