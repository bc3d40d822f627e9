//! The data of one HTTP exchange as it travels the request pipeline: built when a request is
//! admitted, lent to a plugin instance for the duration of one stage call (read and edited
//! through the WIT handles), and read by the integration, the access log and the span export.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

/// A stage of the request lifecycle: the contract's, shared with the SDK.
pub use wasmgate_plugin_contract::Stage;

/// The client's request as it travels through the chains.
#[derive(Debug, Default, Clone)]
pub struct RequestState {
    /// The method the backend will see.
    pub method: Method,
    /// The path the backend will see (percent-encoded, no query).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The headers the backend will see.
    pub headers: HeaderMap,
    /// Parameters captured by the route template, in template order.
    pub path_params: Vec<(String, String)>,
    /// The body, when some plugin of the route declared it reads it.
    pub body: Option<Bytes>,
    /// Whether a plugin replaced the body (so the host recomputes `content-length`).
    pub body_replaced: bool,
}

/// The response on its way back to the client.
#[derive(Debug, Default, Clone)]
pub struct ResponseState {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, when some plugin of the route declared it reads it (or it came from a mock or
    /// a plugin's own response).
    pub body: Option<Bytes>,
    /// Whether a plugin replaced the body.
    pub body_replaced: bool,
}

/// The per-request context bag shared down the chain.
#[derive(Debug, Default, Clone)]
pub struct ContextBag {
    values: BTreeMap<String, String>,
}

impl ContextBag {
    /// Keys under this prefix are set by the gateway and read-only to plugins.
    pub const GATEWAY_PREFIX: &'static str = wasmgate_plugin_contract::context::GATEWAY_PREFIX;
    /// The request id.
    pub const REQUEST_ID: &'static str = wasmgate_plugin_contract::context::REQUEST_ID;
    /// The matched route's id.
    pub const ROUTE_ID: &'static str = wasmgate_plugin_contract::context::ROUTE_ID;
    /// The client's IP address.
    pub const CLIENT_IP: &'static str = wasmgate_plugin_contract::context::CLIENT_IP;
    /// The selected API version, when the route has one.
    pub const API_VERSION: &'static str = wasmgate_plugin_contract::context::API_VERSION;
    /// The W3C trace id of the request (from the client's `traceparent`, or generated).
    pub const TRACE_ID: &'static str = wasmgate_plugin_contract::context::TRACE_ID;
    /// The stage serving the request, when the config declares stages.
    pub const STAGE: &'static str = wasmgate_plugin_contract::context::STAGE;

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Sets a value, whatever its key (the host's own writes).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// Removes a value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.values.remove(key)
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Everything a plugin can see of one exchange.
#[derive(Debug, Default, Clone)]
pub struct Exchange {
    /// The request.
    pub request: RequestState,
    /// The response, from the integration-response stage on.
    pub response: Option<ResponseState>,
    /// The context bag.
    pub context: ContextBag,
    /// Time spent in plugin calls so far (host-side bookkeeping, for logs and metrics).
    pub plugin_time: std::time::Duration,
}

impl Exchange {
    /// The request id the gateway assigned (empty before it did).
    pub fn request_id(&self) -> &str {
        self.context.get(ContextBag::REQUEST_ID).unwrap_or_default()
    }

    /// A copy of what a plugin may edit at `stage` (the request or the response, and the
    /// context), so that the edits of a plugin skipped after a failure can be undone.
    pub fn save_editable(&self, stage: Stage) -> SavedEdits {
        SavedEdits {
            request: stage.request_editable().then(|| self.request.clone()),
            response: stage
                .response_editable()
                .then(|| self.response.clone())
                .flatten(),
            context: self.context.clone(),
        }
    }

    /// Puts back what [`Exchange::save_editable`] saved.
    pub fn restore(&mut self, saved: SavedEdits) {
        if let Some(request) = saved.request {
            self.request = request;
        }
        if let Some(response) = saved.response {
            self.response = Some(response);
        }
        self.context = saved.context;
    }
}

/// The parts of an [`Exchange`] a stage call could change, as they were before it.
#[derive(Debug)]
pub struct SavedEdits {
    request: Option<RequestState>,
    response: Option<ResponseState>,
    context: ContextBag,
}
