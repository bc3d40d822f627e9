//! Header injection and response splitting (CRS 921); the other protocol checks are code, see
//! [`crate::protocol`].

use super::{Class, Form, PatternRule, rule};

/// The header injection rules.
pub(super) const RULES: &[PatternRule] = &[rule(
    "921130",
    "Header injection (CRLF)",
    Class::Protocol,
    1,
    Form::Text,
    r"[\r\n]\s*(?:set-cookie|location|content-(?:type|length|disposition)|transfer-encoding|refresh|access-control-[a-z-]+)\s*:|[\r\n]\s*http/\d",
)];
