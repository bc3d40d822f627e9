//! `capability-probe`: a test-only plugin that calls a host capability named by the request, so
//! the gateway's end-to-end tests can check grants, key and metric namespacing, the shared store
//! (memory or Redis), documents and `crypto`. It imports every capability, so it loads only when
//! granted `rate-limit`, `kv`, `metrics` and `crypto`.
//!
//! At the method-request stage it reads the `x-probe` header and answers 200 with a JSON body
//! describing the result (or the error, with status 503 for an unavailable store, 500 for any
//! other error); without the header it continues:
//!
//! - `bucket <key> <rate> <period-ms> <burst>` — one check of cost 1: `{"allowed", "remaining",
//!   "retry_after_ms", "reset_after_ms"}`;
//! - `quota <key> <limit> day|week|month` — one use: `{"allowed", "used", "remaining", "resets_at"}`;
//! - `kv-set <key> <value> <ttl-ms>` / `kv-get <key>` / `kv-delete <key>` — `{"value": …}`;
//! - `metric <name>` — adds 1 to counter `<name>` with label `route` = the route id;
//! - `document <name>` — `{"version", "content"}` (content as UTF-8 text);
//! - `refresh <name>` — asks for the document to be fetched again;
//! - `digest <text>` — `{"sha256": hex}` from the host;
//! - `hmac <secret> <message> <hex tag>` — imports the secret as an HMAC key and verifies the
//!   HS256 tag: `{"algorithms", "valid"}`, or `{"key_error"}` when the key is refused;
//! - `hold-keys <count> <secret>` — imports the secret `count` times, holding every key until
//!   the call ends: `{"held"}`, and `{"key_error"}` for the import that was refused.

use std::time::Duration;

use serde_json::{Value, json};
use wasmgate_plugin_sdk::rate_limit::{self, Bucket, Window};
use wasmgate_plugin_sdk::{
    Action, Context, InitError, NoConfig, Plugin, Request, ResponseData, Stages, StoreError,
    crypto, documents, kv, metrics,
};

/// The probe; it has no state.
pub struct CapabilityProbe;

impl Plugin for CapabilityProbe {
    type Config = NoConfig;

    fn init(_: NoConfig) -> Result<Self, InitError> {
        Ok(CapabilityProbe)
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let Some(probe) = request.header_str("x-probe") else {
            return Action::Continue;
        };
        let words: Vec<&str> = probe.split_whitespace().collect();
        let route = context.get("gateway.route-id").unwrap_or_default();
        match run(&words, &route) {
            Ok(body) => json_response(200, &body),
            Err(Failure::Store(StoreError::Unavailable(reason))) => {
                json_response(503, &json!({ "unavailable": reason }))
            }
            Err(Failure::Store(StoreError::Invalid(reason))) => {
                json_response(500, &json!({ "invalid": reason }))
            }
            Err(Failure::Other(reason)) => json_response(500, &json!({ "error": reason })),
        }
    }
}

enum Failure {
    Store(StoreError),
    Other(String),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

fn number<T: std::str::FromStr>(word: Option<&&str>) -> Result<T, Failure> {
    word.and_then(|w| w.parse().ok())
        .ok_or_else(|| Failure::Other("missing or bad number".into()))
}

fn run(words: &[&str], route: &str) -> Result<Value, Failure> {
    let arg = |i: usize| words.get(i).copied().unwrap_or_default();
    match words.first().copied() {
        Some("bucket") => {
            let bucket = Bucket {
                rate: number(words.get(2))?,
                period: Duration::from_millis(number(words.get(3))?),
                burst: number(words.get(4))?,
            };
            let d = rate_limit::check_bucket(arg(1), bucket, 1)?;
            Ok(json!({
                "allowed": d.allowed,
                "remaining": d.remaining,
                "retry_after_ms": d.retry_after.as_millis() as u64,
                "reset_after_ms": d.reset_after.as_millis() as u64,
            }))
        }
        Some("quota") => {
            let window = match arg(3) {
                "day" => Window::Day,
                "week" => Window::Week,
                "month" => Window::Month,
                other => return Err(Failure::Other(format!("unknown window `{other}`"))),
            };
            let d = rate_limit::use_quota(arg(1), number(words.get(2))?, window, 1)?;
            Ok(json!({
                "allowed": d.allowed,
                "used": d.used,
                "remaining": d.remaining,
                "resets_at": d.resets_at,
            }))
        }
        Some("kv-set") => {
            let ttl = Duration::from_millis(number(words.get(3))?);
            kv::set(arg(1), arg(2).as_bytes(), ttl)?;
            Ok(json!({ "value": arg(2) }))
        }
        Some("kv-get") => {
            let value = kv::get(arg(1))?.map(|v| String::from_utf8_lossy(&v).into_owned());
            Ok(json!({ "value": value }))
        }
        Some("kv-delete") => {
            kv::delete(arg(1))?;
            Ok(json!({ "value": null }))
        }
        Some("metric") => {
            metrics::counter_add(arg(1), &[("route", route)], 1).map_err(Failure::Other)?;
            Ok(json!({ "recorded": arg(1) }))
        }
        Some("document") => {
            let document = documents::get(arg(1)).map_err(|e| Failure::Other(e.to_string()))?;
            Ok(json!({
                "version": document.version,
                "content": String::from_utf8_lossy(&document.content),
            }))
        }
        Some("digest") => {
            let digest = crypto::digest(crypto::DigestAlgorithm::Sha256, arg(1).as_bytes());
            Ok(json!({ "sha256": hex(&digest) }))
        }
        Some("hmac") => match crypto::Key::import(crypto::KeyFormat::HmacSecret, arg(1).as_bytes())
        {
            Ok(key) => {
                let tag = unhex(arg(3)).ok_or_else(|| Failure::Other("bad hex tag".into()))?;
                let algorithms: Vec<String> =
                    key.algorithms().iter().map(ToString::to_string).collect();
                let valid = key.verify(crypto::SignatureAlgorithm::Hs256, arg(2).as_bytes(), &tag);
                Ok(json!({ "algorithms": algorithms, "valid": valid }))
            }
            Err(error) => Ok(json!({ "key_error": error.to_string() })),
        },
        Some("hold-keys") => {
            let count: usize = number(words.get(1))?;
            let mut held = Vec::with_capacity(count);
            for _ in 0..count {
                match crypto::Key::import(crypto::KeyFormat::HmacSecret, arg(2).as_bytes()) {
                    Ok(key) => held.push(key),
                    Err(error) => {
                        return Ok(json!({ "held": held.len(), "key_error": error.to_string() }));
                    }
                }
            }
            Ok(json!({ "held": held.len() }))
        }
        Some("refresh") => {
            documents::request_refresh(arg(1));
            Ok(json!({ "requested": arg(1) }))
        }
        _ => Err(Failure::Other(format!(
            "unknown probe `{}`",
            words.join(" ")
        ))),
    }
}

fn json_response(status: u16, body: &Value) -> Action {
    ResponseData::new(status).json(body).into()
}

wasmgate_plugin_sdk::export_plugin!(CapabilityProbe);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
