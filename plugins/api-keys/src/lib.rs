//! `api_keys`: API keys with usage plans, like AWS API Gateway's. Runs at METHOD REQUEST:
//! identifies the client by its key, then applies its plan's throttle and quota, shared by every
//! gateway replica through the gateway's store.
//!
//! ```toml
//! [plugins.keys]
//! path = "target/plugins/api_keys.wasm"
//! grants = ["rate-limit", "crypto"]        # the throttle and quota use the shared store; the
//!                                          # key digests are the host's SHA-256
//! [plugins.keys.documents]
//! keys = { file = "keys.toml" }            # optional: more keys, reloaded when the file changes
//! [plugins.keys.config]
//! source = { header = "x-api-key" }        # or { query = "api_key" }; default the x-api-key header
//! keys_document = "keys"                   # the document above; default none
//! forward_key = false                      # default false: the backend never sees the key
//! quota_headers = true                     # default false: X-Quota-* on responses
//!
//! [plugins.keys.config.plans.gold]
//! throttle = { rate = 100, burst = 200, period = "1s" }  # burst defaults to rate, period to "1s"
//! quota = { limit = 10000, period = "month" }            # "day", "week" (from Monday) or "month", UTC
//! [plugins.keys.config.plans.free]
//! quota = { limit = 1000, period = "day" }               # both parts optional: {} is unlimited
//!
//! [[plugins.keys.config.keys]]
//! id = "k-42"                              # what the access log shows (never the key)
//! hash = "2a97516c354b68848cdbd8f54a226a0a55b21ed138e207ad6c5cbb9c00aa5aea"   # SHA-256 hex
//! plan = "gold"
//! enabled = true                           # default true; false refuses the key
//! ```
//!
//! The keys document has the same `[[keys]]` shape, in TOML (the format of the gateway config it
//! sits next to):
//!
//! ```toml
//! [[keys]]
//! id = "k-43"
//! hash = "…64 hex digits…"
//! plan = "free"
//! ```
//!
//! Ids and hashes must be unique over the config and the document together. A document version
//! that does not parse, or names an unknown plan, is logged and ignored (the previous keys stay
//! in force); at load it fails the load.
//!
//! # Keys are stored hashed
//!
//! Only the hex SHA-256 of a key is configured: [`hash_key`] computes it, and the gateway has a
//! command that prints it for a new key. Keys must be random, 128 bits or more (not passwords a
//! person chose): that is what makes a fast unsalted hash enough — no dictionary inverts it, and
//! a slow KDF would only add latency to every request. A leaked config or keys file reveals no
//! usable key.
//!
//! The presented key is hashed and its digest looked up in a hash map, so no constant-time
//! comparison is needed: a timing difference can at most tell an attacker how the digest of
//! their own guess relates to stored digests, and knowing bytes of a stored digest does not help
//! to find a key that hashes to it (SHA-256 is preimage resistant).
//!
//! # Answers
//!
//! | Situation | Status | `type` |
//! |---|---|---|
//! | no key in the request | 403 | `INVALID_API_KEY` ("Missing API key: send it in the x-api-key header") |
//! | unknown or disabled key (one message: "Invalid API key") | 403 | `INVALID_API_KEY` |
//! | throttled | 429 | `THROTTLED`, `Retry-After` in seconds (rounded up) |
//! | quota spent | 429 | `QUOTA_EXCEEDED`, `Retry-After` until the window ends, `X-Quota-*` |
//! | store down, gateway fail-closed; keys document not fetched yet | 503 | `SERVICE_UNAVAILABLE` |
//! | store refused the call, or no valid keys document: a config bug (logged) | 500 | `PLUGIN_FAILURE` |
//!
//! A missing key is a 403, not a 401, as in AWS API Gateway: an API key is not an HTTP
//! authentication scheme, and a 401 would need a `WWW-Authenticate` challenge. Messages never
//! echo the key, and an unknown key cannot be told from a disabled one.
//!
//! The throttle is checked before the quota, so throttled requests do not use quota. Both count
//! under `key:<id>` in the shared store, so every replica (and every instance) sees the same
//! bucket and counter.
//!
//! # Context
//!
//! An identified key sets [`KEY_ID`] (`api-key.id`, in the access log, even when the request is
//! then throttled) and [`KEY_PLAN`]; a plan with a quota also sets [`QUOTA_LIMIT`],
//! [`QUOTA_REMAINING`] and [`QUOTA_RESETS_AT`]. With `quota_headers = true` the plugin also runs
//! at METHOD RESPONSE and sends them to the client as `X-Quota-Limit`, `X-Quota-Remaining` and
//! `X-Quota-Reset` (seconds until the window ends, like the IETF `RateLimit-Reset`).

mod config;
mod hash;
mod key_set;
mod keys;
mod plan;
mod quota;
mod refusal;
mod source;
mod usage;

use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Response, Stages, log};

pub use config::Config;
pub use hash::hash_key;
pub use quota::{QUOTA_LIMIT, QUOTA_REMAINING, QUOTA_RESETS_AT};

use key_set::KeySet;
use quota::QuotaState;
use refusal::Refusal;
use source::KeySource;

/// Context key: the id of the accepted key (the gateway's access log records it).
pub const KEY_ID: &str = wasmgate_plugin_sdk::context::API_KEY_ID;
/// Context key: the name of the accepted key's plan.
pub const KEY_PLAN: &str = "api-key.plan";

/// The `api_keys` plugin.
#[derive(Debug)]
pub struct ApiKeys {
    source: KeySource,
    forward_key: bool,
    quota_headers: bool,
    keys: KeySet,
}

impl Plugin for ApiKeys {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        let plans = plan::plans(config.plans)?;
        Ok(ApiKeys {
            source: KeySource::new(config.source)?,
            forward_key: config.forward_key,
            quota_headers: config.quota_headers,
            keys: KeySet::new(config.keys, plans, config.keys_document)?,
        })
    }

    fn stages(&self) -> Stages {
        if self.quota_headers {
            Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
        } else {
            Stages::METHOD_REQUEST
        }
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        match self.admit(request, context) {
            Ok(()) => Action::Continue,
            Err(refusal) => refusal.into_action(context),
        }
    }

    fn on_method_response(
        &self,
        _request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        if let Some(quota) = QuotaState::recorded(context) {
            for (name, value) in quota.headers() {
                if let Err(err) = response.set_header(name, value) {
                    log::warn("quota header refused", &[("error", &err.to_string())]);
                }
            }
        }
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(ApiKeys);

impl ApiKeys {
    /// Identifies the key and applies its plan; on success the context names the key.
    fn admit(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Result<(), Refusal> {
        let presented = self
            .source
            .read(request)
            .ok_or_else(|| Refusal::MissingKey(self.source.describe()))?;
        let table = self.keys.current().map_err(Refusal::Keys)?;
        let Some(key) = table.find(&hash::digest(&presented)) else {
            log::debug("unknown API key", &[]);
            return Err(Refusal::InvalidKey);
        };
        if !key.enabled {
            log::debug("disabled API key", &[("key-id", &key.id)]);
            return Err(Refusal::InvalidKey);
        }
        // Named before the plan is applied, so the access log shows who was throttled.
        let named = context
            .set(KEY_ID, &key.id)
            .and_then(|()| context.set(KEY_PLAN, &key.plan.name));
        let outcome = usage::enforce(key);
        // Recorded on refusal too: METHOD RESPONSE adds the headers to the 429 as well.
        let quota = match &outcome {
            Ok(quota) => *quota,
            Err(Refusal::QuotaExceeded(quota)) => Some(*quota),
            Err(_) => None,
        };
        let recorded = quota.map_or(Ok(()), |quota| quota.record(context));
        let stripped = match (&outcome, self.forward_key) {
            (Ok(_), false) => self.source.remove(request),
            _ => Ok(()),
        };
        if let Err(err) = named.and(recorded).and(stripped) {
            log::warn(
                "API key context or request edit refused",
                &[("error", &err.to_string())],
            );
        }
        outcome.map(|_| ())
    }
}
