//! The claims side: registered-claim validation (`exp`, `nbf`, `iat`, `iss`, `aud`) against the
//! SDK clock, the verified [`Principal`], and the scope and claim [`Requirements`] checked on
//! every request.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Forbidden, InvalidToken};

/// The registered-claim checks of a verified token.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    /// `iss` must be one of these (not checked when empty).
    pub(crate) issuers: Vec<String>,
    /// `aud` must contain one of these (not checked when empty).
    pub(crate) audiences: Vec<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub(crate) leeway: Duration,
    /// Whether a token without `exp` is refused.
    pub(crate) require_exp: bool,
}

impl Validation {
    /// Checks the registered claims at `now` (seconds since the epoch).
    pub(crate) fn check(&self, claims: &Map<String, Value>, now: f64) -> Result<(), InvalidToken> {
        let leeway = self.leeway.as_secs_f64();
        match numeric_date(claims, "exp")? {
            Some(exp) if now >= exp + leeway => return Err(InvalidToken::Expired),
            None if self.require_exp => return Err(InvalidToken::MissingExpiry),
            _ => {}
        }
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
            return Err(InvalidToken::NotYetValid);
        }
        if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
            return Err(InvalidToken::IssuedInFuture);
        }
        if !self.issuers.is_empty() {
            let issuer = claims.get("iss").and_then(Value::as_str);
            if !issuer.is_some_and(|iss| self.issuers.iter().any(|allowed| allowed == iss)) {
                return Err(InvalidToken::WrongIssuer);
            }
        }
        if !self.audiences.is_empty() {
            let audiences = strings(claims.get("aud"));
            if !audiences.iter().any(|aud| self.audiences.contains(aud)) {
                return Err(InvalidToken::WrongAudience);
            }
        }
        Ok(())
    }
}

/// A NumericDate claim (seconds since the epoch, possibly fractional), if present.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, InvalidToken> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or(InvalidToken::BadTime(name)),
    }
}

/// The strings of a claim that is a string or an array (other values are ignored).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The verified claims the plugin uses later (the principal, scopes, required and exposed
/// claims, `exp`): what is cached and what the requirements are checked against.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Principal {
    claims: Map<String, Value>,
}

impl Principal {
    /// Keeps only the claims named in `kept` from a verified token.
    pub(crate) fn from_verified(mut claims: Map<String, Value>, kept: &BTreeSet<String>) -> Self {
        claims.retain(|name, _| kept.contains(name));
        Principal { claims }
    }

    /// Rebuilds a principal from its cached JSON.
    pub(crate) fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes)
            .ok()
            .map(|claims| Principal { claims })
    }

    /// The JSON that is cached.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.claims).unwrap_or_default()
    }

    /// `exp`, in seconds since the epoch, when it is a number.
    pub(crate) fn expires_at(&self) -> Option<f64> {
        self.claims.get("exp").and_then(Value::as_f64)
    }

    /// A claim's value.
    pub(crate) fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// The scopes granted: the space-separated `scope` claim and the `scp` claim (an array, or
    /// a space-separated string as some identity providers send it), without duplicates.
    pub(crate) fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        for name in ["scope", "scp"] {
            let values = match self.claims.get(name) {
                Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
                other => strings(other),
            };
            for scope in values {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
        }
        scopes
    }
}

/// A claim's value as text for the context or a header: strings as they are, anything else as
/// compact JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A required claim: the token's value (or, for an array, one of its items) must equal one of
/// `accepted`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClaimRule {
    /// The claim's name.
    pub(crate) name: String,
    /// The accepted values (scalars).
    pub(crate) accepted: Vec<Value>,
}

impl ClaimRule {
    fn matches(&self, value: Option<&Value>) -> bool {
        match value {
            Some(Value::Array(items)) => items.iter().any(|item| self.accepted.contains(item)),
            Some(value) => self.accepted.contains(value),
            None => false,
        }
    }
}

/// The scopes and claim values a request needs (globally, or on one route).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Requirements {
    /// Every one of these scopes must be granted.
    pub(crate) scopes: Vec<String>,
    /// Every one of these rules must match.
    pub(crate) claims: Vec<ClaimRule>,
}

impl Requirements {
    /// Whether the principal meets the requirements.
    pub(crate) fn check(&self, principal: &Principal, granted: &[String]) -> Result<(), Forbidden> {
        let missing: Vec<String> = self
            .scopes
            .iter()
            .filter(|scope| !granted.contains(scope))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(Forbidden::MissingScopes(missing));
        }
        match self
            .claims
            .iter()
            .find(|rule| !rule.matches(principal.claim(&rule.name)))
        {
            Some(rule) => Err(Forbidden::ClaimMismatch(rule.name.clone())),
            None => Ok(()),
        }
    }

    /// The claim names the requirements read.
    pub(crate) fn claim_names(&self) -> impl Iterator<Item = &str> {
        self.claims.iter().map(|rule| rule.name.as_str())
    }
}
