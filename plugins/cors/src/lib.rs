//! `cors`: Cross-Origin Resource Sharing for browser clients. Answers preflights itself at the
//! method-request stage and adds the CORS headers to actual responses at the method-response
//! stage — including the gateway's own error responses (404, 405, 500, …) when the plugin is in
//! the global chain.
//!
//! ```toml
//! [plugins.cors]
//! path = "target/plugins/cors.wasm"
//! [plugins.cors.config]
//! allow_origins = ["https://app.example.com", "https://*.example.com"]   # or ["*"]; required
//! allow_methods = ["GET", "POST", "DELETE"]     # or ["*"]; default ["GET", "HEAD", "POST"]
//! allow_headers = ["content-type", "x-api-key"] # or ["*"]; default none beyond the safelisted
//! expose_headers = ["x-request-id"]             # default none
//! allow_credentials = true                      # default false; not with allow_origins = ["*"]
//! max_age_secs = 600                            # preflight cache lifetime; default: not sent
//!
//! [chain]
//! plugins = ["cors"]    # first in the global chain: preflights never reach authentication
//! ```
//!
//! Origins are `scheme://host[:port]`, compared case-insensitively. `https://*.example.com`
//! allows any subdomain of `example.com`, at any depth (`https://a.b.example.com`), with the
//! same scheme and port, but not `https://example.com` itself (list it too if needed).
//!
//! # Behaviour
//!
//! - **Preflight** (`OPTIONS` with `Origin` and `Access-Control-Request-Method`; the gateway
//!   offers it to the chain of the route serving the requested method): an allowed origin gets
//!   a `204` with `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`,
//!   `-Allow-Credentials` and `-Max-Age`. As in Envoy and the Fetch spec, the configured lists
//!   are sent whatever the browser asked for and the browser enforces them (with `*`, the
//!   requested method and headers are echoed, which also works with credentials). A disallowed
//!   origin gets a `403` `CORS_ORIGIN_NOT_ALLOWED` error without any CORS header, which the
//!   browser reports as a failed preflight. The backend is never called for a preflight.
//! - **Actual request** with an allowed `Origin`: `Access-Control-Allow-Origin` (`*` when any
//!   origin is allowed without credentials, else the request's origin), `-Allow-Credentials`
//!   and `-Expose-Headers` are set on the response, replacing the backend's. With a disallowed
//!   origin the response goes out without CORS headers (the backend's are removed), so the
//!   browser withholds it from the page. Requests without `Origin` are left alone.
//! - `Vary: Origin` is added unless every origin gets the same answer (`*` without
//!   credentials), so shared caches keep per-origin copies.

mod config;

use wasmgate_plugin_sdk::errors::plugins::CORS_ORIGIN_NOT_ALLOWED;
use wasmgate_plugin_sdk::{
    Action, Context, InitError, Plugin, Request, Response, ResponseData, Stages, log,
};

pub use config::Config;
use config::{List, OriginRule, Policy};

/// The `cors` plugin.
#[derive(Debug)]
pub struct Cors {
    policy: Policy,
}

const ALLOW_ORIGIN: &str = "access-control-allow-origin";
const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
const EXPOSE_HEADERS: &str = "access-control-expose-headers";
const REQUEST_METHOD: &str = "access-control-request-method";
const REQUEST_HEADERS: &str = "access-control-request-headers";

impl Plugin for Cors {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(Cors {
            policy: Policy::try_from(config)?,
        })
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let Some(origin) = preflight_origin(request) else {
            return Action::Continue;
        };
        if !self.allows(&origin) {
            log::debug("CORS preflight refused", &[("origin", origin.as_str())]);
            let mut refusal = ResponseData::error(
                context,
                CORS_ORIGIN_NOT_ALLOWED,
                format!("origin `{origin}` is not allowed"),
            );
            if self.varies() {
                refusal = refusal.header("vary", "Origin");
            }
            return Action::Respond(refusal);
        }
        Action::Respond(self.preflight_answer(request, &origin))
    }

    fn on_method_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        _context: &mut Context<'_>,
    ) -> Action {
        // A preflight was answered (or refused) at method request: its headers are final.
        if preflight_origin(request).is_some() {
            return Action::Continue;
        }
        let Some(origin) = request.header_str("origin") else {
            return Action::Continue;
        };
        let edits = if self.allows(&origin) {
            self.actual_headers(response, &origin)
        } else {
            log::debug("CORS origin not allowed", &[("origin", origin.as_str())]);
            [ALLOW_ORIGIN, ALLOW_CREDENTIALS, EXPOSE_HEADERS]
                .into_iter()
                .try_for_each(|name| response.remove_header(name))
        };
        let edits = edits.and_then(|()| self.add_vary(response));
        if let Err(err) = edits {
            log::warn(
                "CORS header refused",
                &[("error", err.to_string().as_str())],
            );
        }
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(Cors);

impl Cors {
    fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.policy.origins.iter().any(|rule| rule.matches(&origin))
    }

    /// Whether answers depend on the origin (so `Vary: Origin` is needed).
    fn varies(&self) -> bool {
        self.policy.credentials || !self.policy.origins.contains(&OriginRule::Any)
    }

    /// The `Access-Control-Allow-Origin` value for an allowed origin.
    fn allow_origin_value<'a>(&self, origin: &'a str) -> &'a str {
        if self.varies() { origin } else { "*" }
    }

    fn preflight_answer(&self, request: &Request<'_>, origin: &str) -> ResponseData {
        let policy = &self.policy;
        let mut answer =
            ResponseData::new(204).header(ALLOW_ORIGIN, self.allow_origin_value(origin));
        if policy.credentials {
            answer = answer.header(ALLOW_CREDENTIALS, "true");
        }
        let methods = match &policy.methods {
            List::Any => request.header_str(REQUEST_METHOD).unwrap_or_default(),
            List::Only(methods) => methods.join(", "),
        };
        answer = answer.header("access-control-allow-methods", methods);
        let headers = match &policy.headers {
            List::Any => request.header_str(REQUEST_HEADERS).unwrap_or_default(),
            List::Only(headers) => headers.join(", "),
        };
        if !headers.is_empty() {
            answer = answer.header("access-control-allow-headers", headers);
        }
        if let Some(max_age) = policy.max_age {
            answer = answer.header("access-control-max-age", max_age.to_string());
        }
        answer.header(
            "vary",
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        )
    }

    fn actual_headers(
        &self,
        response: &mut Response<'_>,
        origin: &str,
    ) -> Result<(), wasmgate_plugin_sdk::EditError> {
        response.set_header(ALLOW_ORIGIN, self.allow_origin_value(origin))?;
        if self.policy.credentials {
            response.set_header(ALLOW_CREDENTIALS, "true")?;
        } else {
            response.remove_header(ALLOW_CREDENTIALS)?;
        }
        if self.policy.expose_headers.is_empty() {
            response.remove_header(EXPOSE_HEADERS)
        } else {
            response.set_header(EXPOSE_HEADERS, &self.policy.expose_headers)
        }
    }

    /// Adds `Vary: Origin` unless it is there already (or not needed).
    fn add_vary(&self, response: &mut Response<'_>) -> Result<(), wasmgate_plugin_sdk::EditError> {
        if !self.varies() {
            return Ok(());
        }
        let present = response.header_values("vary").iter().any(|value| {
            String::from_utf8_lossy(value).split(',').any(|name| {
                matches!(name.trim(), "*") || name.trim().eq_ignore_ascii_case("origin")
            })
        });
        if present {
            Ok(())
        } else {
            response.append_header("vary", "Origin")
        }
    }
}

/// The `Origin` of a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`); `None` for any other request.
fn preflight_origin(request: &Request<'_>) -> Option<String> {
    if request.method() != "OPTIONS" || request.header(REQUEST_METHOD).is_none() {
        return None;
    }
    request.header_str("origin")
}
