//! `rate_limiter`: token-bucket rate limits per client IP, API key, principal, header value or
//! route, at default, route and method level, shared by every gateway replica through the
//! gateway's store. Runs at METHOD REQUEST (and METHOD RESPONSE for the headers of allowed
//! responses).
//!
//! ```toml
//! [plugins.limits]
//! path = "target/plugins/rate_limiter.wasm"
//! grants = ["rate-limit"]
//! [plugins.limits.config]
//! key = "client-ip"            # or "api-key", "principal", "route", { header = "x-tenant-id" }
//! when_absent = "client-ip"    # or "skip": requests without an API key id / principal / header
//! response_headers = true      # default true: RateLimit-* on allowed responses too
//! default = { rate = 100, burst = 200, period = "1s" }   # routes without their own limit
//!
//! [plugins.limits.config.routes.create-order]            # a route id
//! rate = 10                    # the route's own limit (optional if it has methods)
//! burst = 20                   # default: rate
//! period = "1s"                # <number><unit>, unit ms, s, m, h or d; default "1s"
//! methods = { POST = { rate = 2, burst = 5, period = "1s" } }
//! ```
//!
//! # Which limit applies
//!
//! Exactly one limit applies to a request, the most specific: the method's under its route,
//! else the route's own, else `default` (else none: the request is not limited). Each limit has
//! its own buckets, one per subject — the bucket key is `<limit>|<subject>`, e.g.
//! `route:create-order:POST|ip:203.0.113.7` or `default|key:k-42` — so a request counted by a
//! route limit does not count against the default one. With `key = "route"` the subject is the
//! route: `default` then gives every route its own bucket for all clients, like AWS API
//! Gateway's default method throttling.
//!
//! To limit on two subjects at once (say per IP *and* per API key), configure the plugin twice
//! under two names, one per `key`.
//!
//! # Subjects
//!
//! | `key` | Subject | Absent when |
//! |---|---|---|
//! | `"client-ip"` | `gateway.client-ip` | never (else the request is not limited) |
//! | `"api-key"` | `api-key.id` (set by `api_keys`, which must run first) | no accepted key |
//! | `"principal"` | `auth.principal` (set by an authorizer) | anonymous request |
//! | `{ header = "…" }` | the header's first value, by its SHA-256 (never stored verbatim) | no or empty header |
//! | `"route"` | `gateway.route-id` | never |
//!
//! An absent subject falls back to the client IP (`when_absent = "client-ip"`, the default, so
//! anonymous traffic is limited too) or skips the limit (`"skip"`).
//!
//! # Answers and headers
//!
//! A refused request gets a 429 `THROTTLED` JSON error with `Retry-After` (whole seconds until a
//! request would pass, rounded up) and the `RateLimit-Limit` (the burst), `RateLimit-Remaining`
//! and `RateLimit-Reset` (seconds until the bucket is full again, rounded up) headers of
//! draft-ietf-httpapi-ratelimit-headers. With `response_headers = true` allowed responses carry
//! the same three headers, added at METHOD RESPONSE from the context keys [`LIMIT`],
//! [`REMAINING`] and [`RESET`] (when several limiter instances ran, the one with the fewest
//! requests remaining). A store that is down while the gateway fails closed gives a 503
//! `SERVICE_UNAVAILABLE`; a call the store refuses (a bug) a 500 `PLUGIN_FAILURE`; both are
//! logged.

mod config;
mod limits;
mod refusal;
mod state;
mod subject;

use wasmgate_plugin_sdk::rate_limit;
use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Response, Stages, log};

pub use config::Config;
pub use state::{LIMIT, REMAINING, RESET};
pub use subject::{API_KEY_ID, PRINCIPAL};

use limits::Limits;
use refusal::Refusal;
use state::LimitState;
use subject::Subjects;

/// The `rate_limiter` plugin.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    subjects: Subjects,
    response_headers: bool,
}

impl Plugin for RateLimiter {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(RateLimiter {
            subjects: Subjects::new(config.key, config.when_absent)?,
            limits: Limits::new(config.global, config.routes)?,
            response_headers: config.response_headers,
        })
    }

    fn stages(&self) -> Stages {
        if self.response_headers {
            Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
        } else {
            Stages::METHOD_REQUEST
        }
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        match self.check(request, context) {
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
        if let Some(state) = LimitState::recorded(context) {
            for (name, value) in state.headers() {
                if let Err(err) = response.set_header(name, value) {
                    log::warn("RateLimit header refused", &[("error", &err.to_string())]);
                }
            }
        }
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(RateLimiter);

impl RateLimiter {
    /// Takes a token from the bucket of the limit and subject of the request.
    fn check(&self, request: &Request<'_>, context: &mut Context<'_>) -> Result<(), Refusal> {
        let route = context.route_id();
        let Some(limit) = self.limits.select(route.as_deref(), || request.method()) else {
            return Ok(());
        };
        let Some(subject) = self.subjects.resolve(request, context) else {
            return Ok(());
        };
        let key = format!("{}|{subject}", limit.scope);
        let decision = rate_limit::check_bucket(&key, limit.bucket, 1).map_err(Refusal::Store)?;
        let state = LimitState::new(&limit.bucket, &decision);
        // For METHOD RESPONSE; a refusal carries its headers itself.
        if self.response_headers
            && let Err(err) = state.record(context)
        {
            log::warn("rate-limit context refused", &[("error", &err.to_string())]);
        }
        if decision.allowed {
            Ok(())
        } else {
            log::debug("throttled", &[("limit", &limit.scope)]);
            Err(Refusal::Throttled {
                state,
                retry_after: decision.retry_after,
            })
        }
    }
}
