//! TOML text → [`ConfigFile`], with TOML syntax and serde shape errors turned into
//! [`ConfigError`]s that name the line and the key path.
//!
//! Both kinds stop at the first problem (the parser and serde cannot go on); validation, which
//! follows, reports every problem it finds.

use serde_path_to_error::Segment;

use super::error::{ConfigError, Locator};
use super::surface::ConfigFile;

/// Parses `text` into the surface types.
pub(super) fn parse_surface(loc: &Locator<'_>, text: &str) -> Result<ConfigFile, ConfigError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let message = format!("invalid TOML: {}", e.message());
        loc.error(e.span(), None, message, None)
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = key_path(e.path());
        let inner = e.into_inner();
        let (message, help, key) = humanize(inner.message(), path);
        loc.error(inner.span(), key, message, help)
    })
}

/// Renders serde's path as a dotted TOML key path (`routes[0].integration.upstream`), leaving out
/// the segments `Spanned` adds.
fn key_path(path: &serde_path_to_error::Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => match out.last_mut() {
                Some(last) => last.push_str(&format!("[{index}]")),
                None => out.push(format!("[{index}]")),
            },
            Segment::Map { key } if key.starts_with("$__serde_spanned_private_") => {}
            Segment::Map { key } => out.push(toml_key(key)),
            Segment::Enum { variant } => out.push(toml_key(variant)),
            Segment::Unknown => out.push("?".to_owned()),
        }
    }
    out
}

/// A key as it would be written in a dotted TOML key: bare when it can be, quoted otherwise.
pub(super) fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// Rewords a serde message for an operator: TOML words (key, table, array) instead of Rust ones
/// (field, map, sequence, u32), and the list of expected keys or values as help.
/// Returns the message, the help and the key path to show.
fn humanize(message: &str, mut path: Vec<String>) -> (String, Option<String>, Option<String>) {
    let join = |path: &[String]| (!path.is_empty()).then(|| path.join("."));
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // The path ends with the unknown key itself: show the table that holds it.
        path.pop();
        let (name, expected) = split_expected(rest);
        return (format!("unknown key {name}"), expected, join(&path));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (name, expected) = split_expected(rest);
        return (format!("unknown value {name}"), expected, join(&path));
    }
    if let Some(name) = message.strip_prefix("missing field ") {
        return (format!("missing key {name}"), None, join(&path));
    }
    (rust_words_to_toml(message), None, join(&path))
}

/// Splits "`name`, expected one of `a`, `b`" into the name and "expected one of `a`, `b`".
fn split_expected(rest: &str) -> (String, Option<String>) {
    match rest.split_once(", ") {
        Some((name, "there are no fields")) => (name.to_owned(), None),
        Some((name, expected)) => (name.to_owned(), Some(expected.to_owned())),
        None => (rest.to_owned(), None),
    }
}

fn rust_words_to_toml(message: &str) -> String {
    let Some((head, expected)) = message.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let expected = match expected {
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "usize" => "a non-negative integer",
        "i64" => "an integer",
        "a sequence" => "an array",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        e => e,
    };
    let head = head
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: table");
    format!("{head}, expected {expected}")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn error(text: &str) -> ConfigError {
        parse_surface(&Locator::new(Path::new("gw.toml"), text), text).unwrap_err()
    }

    #[test]
    fn reports_a_syntax_error_at_its_line() {
        let e = error("[gateway]\nmax_body_bytes = = 3\n");
        assert_eq!((e.line, e.key.as_deref()), (Some(2), None));
        assert!(e.message.starts_with("invalid TOML: "), "{e}");
    }

    #[test]
    fn reports_an_unknown_nested_key_in_its_table() {
        let e = error(
            "[[routes]]\npath = \"/\"\n[routes.integration]\ntype = \"http\"\nupstreem = \"o\"\n",
        );
        assert_eq!(e.message, "unknown key `upstreem`");
        assert_eq!((e.line, e.column), (Some(5), Some(1)));
        assert_eq!(e.key.as_deref(), Some("routes[0].integration"));
        assert_eq!(
            e.help.as_deref(),
            Some(
                "expected one of `type`, `upstream`, `status`, `headers`, `body`, `retries`, `retry_non_idempotent`, `canary`"
            )
        );
    }

    #[test]
    fn reports_an_unknown_top_level_key_without_a_key_path() {
        let e = error("listener = 1\n");
        assert_eq!(
            (e.message.as_str(), e.key),
            ("unknown key `listener`", None)
        );
        assert!(e.help.unwrap().contains("`listeners`"));
    }

    #[test]
    fn reports_a_wrong_type_with_the_full_key_path() {
        let e = error("[plugins.auth]\npath = \"a.wasm\"\nmemory_mb = \"big\"\n");
        assert_eq!(e.key.as_deref(), Some("plugins.auth.memory_mb"));
        assert_eq!(
            e.message,
            "invalid type: string \"big\", expected a non-negative integer"
        );
        assert_eq!((e.line, e.column), (Some(3), Some(13)));
    }

    #[test]
    fn reports_an_unknown_enum_value_with_the_choices() {
        let e = error("[plugins.a]\npath = \"a\"\nfailure_policy = \"closd\"\n");
        assert_eq!(e.message, "unknown value `closd`");
        assert_eq!(e.help.as_deref(), Some("expected `closed` or `open`"));
        assert_eq!(e.key.as_deref(), Some("plugins.a.failure_policy"));
    }

    #[test]
    fn reports_a_missing_key_in_its_table() {
        let e = error("[[listeners]]\nname = \"x\"\n");
        assert_eq!(e.message, "missing key `address`");
        assert_eq!(e.key.as_deref(), Some("listeners[0]"));
    }

    #[test]
    fn quotes_keys_that_are_not_bare() {
        let e = error("[upstreams.\"a.b\"]\nurl = 1\n");
        assert_eq!(e.key.as_deref(), Some("upstreams.\"a.b\".url"));
    }
}
