//! A custom wasmgate plugin — a minimal custom authorizer: reject requests without an API key,
//! or allow them and tell later plugins who called.
//!
//! Requests without a non-empty `x-api-key` header (the name is configurable) get a 401 JSON
//! error of type `UNAUTHORIZED`; responses get `x-api-key-checked: true`. With `principals`,
//! only the listed keys are allowed (others: 403 `ACCESS_DENIED`), and the key's principal goes
//! into the request context as `auth.principal` — where the access log, the mapper and the
//! headers plugin (`forward_context`) find it, as they find the JWT authorizer's.
//!
//! ```toml
//! [plugins.api-key]
//! path = "target/wasm32-wasip2/release/require_api_key.wasm"
//! config = { header = "x-api-key" }   # optional, this is the default
//! # config = { principals = { "k1" = "alice" } }   # an allow list (use the api_keys plugin,
//! #                                                # with hashed keys, in production)
//! ```
//!
//! Build it, then call a route that runs it:
//!
//! ```text
//! $ cargo build --release --target wasm32-wasip2 -p require-api-key
//! $ curl -i localhost:8080/v1/hello
//! HTTP/1.1 401 Unauthorized
//! content-type: application/json
//! x-api-key-checked: true
//!
//! {"message":"missing x-api-key header","type":"UNAUTHORIZED","requestId":"…"}
//! $ curl -i -H 'x-api-key: k1' localhost:8080/v1/hello
//! HTTP/1.1 200 OK
//! x-api-key-checked: true
//! ```
//!
//! Test it natively with `cargo test -p require-api-key` (see `tests/`).

use std::collections::BTreeMap;

use serde::Deserialize;
use wasmgate_plugin_sdk::context::PRINCIPAL;
use wasmgate_plugin_sdk::errors::plugins::{ACCESS_DENIED, UNAUTHORIZED};
use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Response, Stages, header};

/// Rejects requests that carry no API key.
pub struct RequireApiKey {
    header: String,
    principals: Option<BTreeMap<String, String>>,
}

/// The plugin's config: `config = { header = "x-api-key" }`.
#[derive(Deserialize)]
pub struct Config {
    /// The header that must carry the key; default `x-api-key`.
    header: Option<String>,
    /// `principals = { "<key>" = "<principal>" }`: only these keys are allowed, and the
    /// principal is put in the context. Absent: any non-empty key is allowed.
    principals: Option<BTreeMap<String, String>>,
}

impl Plugin for RequireApiKey {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        let header = config.header.unwrap_or_else(|| "x-api-key".into());
        if !header::is_valid_name(&header) {
            return Err(InitError::invalid_config("header", "invalid header name"));
        }
        Ok(RequireApiKey {
            header,
            principals: config.principals,
        })
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let key = request.header(&self.header).unwrap_or_default();
        if key.is_empty() {
            let message = format!("missing {} header", self.header);
            return Action::error(context, UNAUTHORIZED, message);
        }
        let Some(principals) = &self.principals else {
            return Action::Continue;
        };
        let principal = std::str::from_utf8(&key)
            .ok()
            .and_then(|key| principals.get(key));
        match principal.map(|p| context.set(PRINCIPAL, p)) {
            Some(Ok(())) => Action::Continue,
            Some(Err(_)) | None => Action::error(context, ACCESS_DENIED, "unknown API key"),
        }
    }

    fn on_method_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        _: &mut Context<'_>,
    ) -> Action {
        // Cannot fail: a valid name and value, at a stage where the response is editable.
        let _ = response.set_header("x-api-key-checked", "true");
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(RequireApiKey);
