//! Whom a bucket counts: the client's IP, its API key, its principal, a header value, or the
//! route as a whole.

use sha2::{Digest, Sha256};
use wasmgate_plugin_sdk::{Context, InitError, Request, header};

use crate::config::{KeyConfig, WhenAbsentConfig};

/// The context key the `api_keys` plugin sets to the accepted key's id.
pub const API_KEY_ID: &str = wasmgate_plugin_sdk::context::API_KEY_ID;
/// The context key authorizers set to the authenticated principal.
pub const PRINCIPAL: &str = wasmgate_plugin_sdk::context::PRINCIPAL;

/// Where the subject of a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    ClientIp,
    ApiKey,
    Principal,
    Route,
    /// A lower-case header name.
    Header(String),
}

/// The subject source, and the fallback when a request has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subjects {
    source: Source,
    /// Count requests without a subject under their client IP (else: do not limit them).
    fall_back_to_ip: bool,
}

impl Subjects {
    /// Validates `key` and `when_absent`.
    pub(crate) fn new(
        key: Option<KeyConfig>,
        when_absent: Option<WhenAbsentConfig>,
    ) -> Result<Subjects, InitError> {
        let source = match key.unwrap_or(KeyConfig::ClientIp) {
            KeyConfig::ClientIp => Source::ClientIp,
            KeyConfig::ApiKey => Source::ApiKey,
            KeyConfig::Principal => Source::Principal,
            KeyConfig::Route => Source::Route,
            KeyConfig::Header(name) if header::is_valid_name(&name) => {
                Source::Header(name.to_ascii_lowercase())
            }
            KeyConfig::Header(name) => {
                return Err(InitError::invalid_config(
                    "key.header",
                    format!("`{name}` is not a valid header name (letters, digits, `-`, …)"),
                ));
            }
        };
        let fall_back_to_ip = !matches!(when_absent, Some(WhenAbsentConfig::Skip));
        Ok(Subjects {
            source,
            fall_back_to_ip,
        })
    }

    /// The request's subject, e.g. `ip:203.0.113.7`, `key:k-42`, `principal:alice`,
    /// `header:<sha-256 hex>` or `route:orders`; `None` when the request is not limited.
    ///
    /// Header values are hashed: they are often credentials, which must not end up in the
    /// store's keys, and their length is then bounded.
    pub(crate) fn resolve(&self, request: &Request<'_>, context: &Context<'_>) -> Option<String> {
        let subject = match &self.source {
            Source::ClientIp => None,
            Source::ApiKey => non_empty(context.get(API_KEY_ID)).map(|id| format!("key:{id}")),
            Source::Principal => {
                non_empty(context.get(PRINCIPAL)).map(|principal| format!("principal:{principal}"))
            }
            Source::Route => non_empty(context.route_id()).map(|route| format!("route:{route}")),
            Source::Header(name) => request
                .header(name)
                .filter(|value| !value.is_empty())
                .map(|value| format!("header:{}", hex::encode(Sha256::digest(value)))),
        };
        let fallback = self.source == Source::ClientIp || self.fall_back_to_ip;
        subject.or_else(|| {
            fallback
                .then(|| non_empty(context.client_ip()))
                .flatten()
                .map(|ip| format!("ip:{ip}"))
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}
