//! Protocol abuse: methods outside the allowed list, request smuggling markers, NUL bytes.

use crate::targets::{Headers, Target};

/// Method not allowed.
pub(crate) const METHOD: &str = "911100";
/// Both `Content-Length` and `Transfer-Encoding`, or conflicting lengths.
pub(crate) const SMUGGLING: &str = "921110";
/// A `Transfer-Encoding` other than a plain `chunked`.
pub(crate) const BAD_TRANSFER_ENCODING: &str = "921120";
/// A NUL byte in an inspected value.
pub(crate) const NUL_BYTE: &str = "920270";

/// Every id of this module.
pub(crate) const RULE_IDS: &[&str] = &[METHOD, SMUGGLING, BAD_TRANSFER_ENCODING, NUL_BYTE];

/// What a protocol rule detects.
pub(crate) fn name(id: &str) -> &'static str {
    match id {
        METHOD => "method not allowed",
        SMUGGLING => "request smuggling: conflicting lengths",
        BAD_TRANSFER_ENCODING => "request smuggling: bad transfer-encoding",
        _ => "NUL byte",
    }
}

/// The protocol rules `request` breaks.
pub(crate) fn check(
    headers: &Headers,
    method: &str,
    allowed_methods: &[String],
    targets: &[Target],
    found: &mut Vec<&'static str>,
) {
    if !allowed_methods.iter().any(|allowed| allowed == method) {
        found.push(METHOD);
    }
    let lengths: Vec<&[u8]> = headers.values("content-length").collect();
    let encodings: Vec<&[u8]> = headers.values("transfer-encoding").collect();
    let conflicting_lengths = lengths.windows(2).any(|pair| pair[0] != pair[1])
        || lengths.iter().any(|value| value.contains(&b','));
    if (!lengths.is_empty() && !encodings.is_empty()) || conflicting_lengths {
        found.push(SMUGGLING);
    }
    if encodings.len() > 1
        || encodings
            .iter()
            .any(|value| !value.trim_ascii().eq_ignore_ascii_case(b"chunked"))
    {
        found.push(BAD_TRANSFER_ENCODING);
    }
    // Both encodings hold a `%`: most values have none and skip the substring searches.
    let has_nul = |target: &Target| {
        target.value.contains('\0')
            || (target.value.contains('%')
                && (target.value.contains("%00") || target.value.contains("%2500")))
    };
    if targets.iter().filter(|t| t.inspect).any(has_nul) {
        found.push(NUL_BYTE);
    }
}
