//! Why a request is refused, and the one place that turns it into an HTTP answer (RFC 6750 §3).
//! Messages describe the failure; they never contain the token or anything read from it.

use crate::keys::Algorithm;
use thiserror::Error;
use wasmgate_plugin_sdk::errors::plugins::{ACCESS_DENIED, UNAUTHORIZED};
use wasmgate_plugin_sdk::{Action, Context, ResponseData};

/// Why a request is refused.
#[derive(Debug, Error)]
pub(crate) enum Rejection {
    /// No token where the config says to look: 401 with a bare `WWW-Authenticate: Bearer`.
    #[error("missing token ({0})")]
    Missing(String),
    /// A token that cannot be trusted: 401 `invalid_token`.
    #[error(transparent)]
    Invalid(#[from] InvalidToken),
    /// A valid token without the rights the route requires: 403 `insufficient_scope`.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
}

/// Why a token is not trusted.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum InvalidToken {
    /// Not a compact JWS.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg: none`.
    #[error("unsigned tokens (`alg: none`) are not accepted")]
    AlgNone,
    /// An `alg` the plugin does not implement.
    #[error("the token's algorithm is not supported")]
    UnsupportedAlgorithm,
    /// An `alg` the config does not allow.
    #[error("the token's algorithm {0} is not allowed")]
    AlgorithmNotAllowed(Algorithm),
    /// A `crit` header.
    #[error("the token has critical header extensions, which are not supported")]
    CriticalExtension,
    /// A `kid` no key has.
    #[error("the token's key id is unknown")]
    UnknownKeyId,
    /// The key the `kid` names does not verify this `alg` (e.g. an HS256 token naming an RSA
    /// key: algorithm confusion).
    #[error("the token's key does not verify algorithm {0}")]
    KeyAlgorithmMismatch(Algorithm),
    /// No key verifies this `alg`.
    #[error("no key verifies algorithm {0}")]
    NoKeyForAlgorithm(Algorithm),
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `exp` is past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// No `exp` while `require_exp` is on.
    #[error("the token has no expiry (`exp`)")]
    MissingExpiry,
    /// `exp`, `nbf` or `iat` is not a number.
    #[error("the token's `{0}` claim is not a NumericDate")]
    BadTime(&'static str),
    /// `iss` is absent or not one of the configured issuers.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` is absent or names none of the configured audiences.
    #[error("the token's audience is not accepted")]
    WrongAudience,
}

/// Why a valid token is not enough for this request.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum Forbidden {
    /// Required scopes the token lacks.
    #[error("the token lacks the required scope(s): {}", .0.join(" "))]
    MissingScopes(Vec<String>),
    /// A claim without a required value.
    #[error("the token's `{0}` claim does not have a required value")]
    ClaimMismatch(String),
}

impl Rejection {
    /// The gateway-style JSON error the client gets, with its `WWW-Authenticate` challenge.
    pub(crate) fn respond(&self, context: &Context<'_>) -> Action {
        let (kind, challenge) = match self {
            Rejection::Missing(_) => (UNAUTHORIZED, "Bearer".to_owned()),
            Rejection::Invalid(_) => (UNAUTHORIZED, r#"Bearer error="invalid_token""#.to_owned()),
            Rejection::Forbidden(Forbidden::MissingScopes(scopes)) => (
                ACCESS_DENIED,
                format!(
                    r#"Bearer error="insufficient_scope", scope="{}""#,
                    scopes.join(" ")
                ),
            ),
            Rejection::Forbidden(Forbidden::ClaimMismatch(_)) => (
                ACCESS_DENIED,
                r#"Bearer error="insufficient_scope""#.to_owned(),
            ),
        };
        let response = ResponseData::error(context, kind, self.to_string())
            .header("www-authenticate", challenge);
        Action::Respond(response)
    }
}
