//! Responses the gateway itself produces: the stable types (the plugin contract's `errors`,
//! shared with plugins), and the one function that maps internal errors to them.
//!
//! Every gateway response has a JSON body `{"message": …, "type": …, "requestId": …}`. The
//! message is meant for API clients: internal details (a plugin's trap, an upstream's address)
//! go to the log, never into the body.

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};

use wasmgate_plugin_contract::errors::{self, ErrorBody};

use crate::exchange::{ResponseState, Stage};
use crate::plugin::PluginFailure;

/// A gateway response type (name, status, default message), defined in the plugin contract
/// so plugins refuse requests in the same shape and with the same names.
pub use wasmgate_plugin_contract::errors::ErrorType;
/// Every gateway response type.
pub use wasmgate_plugin_contract::errors::gateway::*;

/// Everything that makes the gateway answer a request itself.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No route matches.
    #[error("no route matches {method} {path}")]
    NoRoute {
        /// The request method.
        method: Method,
        /// The request path.
        path: String,
    },
    /// The path matches, the method does not.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request method.
        method: Method,
        /// The request path.
        path: String,
        /// The methods the path has.
        allow: Vec<Method>,
    },
    /// The request body exceeds the buffering cap.
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The request line and headers exceed `max_header_bytes`.
    #[error("request headers are {size} bytes, over the {limit}-byte limit")]
    HeadersTooLarge {
        /// Their size (as HTTP/1.1 would carry them).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The request body could not be read from the client.
    #[error("cannot read request body: {0}")]
    BodyRead(String),
    /// A plugin failed with failure policy `closed`.
    #[error("plugin `{plugin}` failed at {stage}: {failure}")]
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// The stage.
        stage: Stage,
        /// What went wrong.
        failure: PluginFailure,
    },
    /// The backend could not be reached or its answer could not be read.
    #[error("upstream `{upstream}` failed: {reason}")]
    Upstream {
        /// The upstream's name.
        upstream: String,
        /// What went wrong.
        reason: String,
    },
    /// Every instance of a plugin stayed busy past the queue bound: the gateway is saturated
    /// and sheds the request (answered 503 with `Retry-After`; not a plugin failure).
    #[error("plugin `{plugin}` is saturated: all {max_instances} instances stayed busy")]
    Saturated {
        /// The plugin's name.
        plugin: String,
        /// Its instance limit.
        max_instances: u32,
    },
    /// The upstream takes no request now: its circuit breaker is open (`max_requests` in
    /// flight) or none of its targets is available (answered 503 with `Retry-After`).
    #[error("upstream `{upstream}` is unavailable: {reason}")]
    UpstreamUnavailable {
        /// The upstream's name.
        upstream: String,
        /// Why.
        reason: &'static str,
    },
    /// The route's throttle in its stage is out of requests (answered 429 with `Retry-After`).
    #[error("throttled in stage `{}`", stage.as_deref().unwrap_or_default())]
    Throttled {
        /// The deployment whose throttle refused the request.
        stage: Option<std::sync::Arc<str>>,
        /// When the throttle has room again.
        retry_after: std::time::Duration,
    },
    /// The backend did not answer within the integration timeout.
    #[error("upstream `{upstream}` did not answer within {timeout_ms} ms")]
    UpstreamTimeout {
        /// The upstream's name.
        upstream: String,
        /// The timeout.
        timeout_ms: u128,
    },
}

impl GatewayError {
    /// The gateway response type this error is answered with.
    pub fn response_type(&self) -> ErrorType {
        match self {
            GatewayError::NoRoute { .. } => RESOURCE_NOT_FOUND,
            GatewayError::MethodNotAllowed { .. } => METHOD_NOT_ALLOWED,
            GatewayError::BodyTooLarge { .. } => REQUEST_TOO_LARGE,
            GatewayError::HeadersTooLarge { .. } => REQUEST_HEADERS_TOO_LARGE,
            GatewayError::BodyRead(_) => BAD_REQUEST_BODY,
            GatewayError::Plugin { .. } => PLUGIN_FAILURE,
            GatewayError::Saturated { .. } => SERVICE_UNAVAILABLE,
            GatewayError::UpstreamUnavailable { .. } => SERVICE_UNAVAILABLE,
            GatewayError::Upstream { .. } => INTEGRATION_FAILURE,
            GatewayError::UpstreamTimeout { .. } => INTEGRATION_TIMEOUT,
            GatewayError::Throttled { .. } => errors::plugins::THROTTLED,
        }
    }

    /// The response the client receives for this error: the one mapping from internal errors
    /// to gateway responses.
    pub fn to_response(&self, request_id: &str) -> ResponseState {
        let mut response = render(self.response_type(), request_id);
        match self {
            GatewayError::MethodNotAllowed { allow, .. } => {
                let allow = allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    response.headers.insert(ALLOW, value);
                }
            }
            GatewayError::Saturated { .. } | GatewayError::UpstreamUnavailable { .. } => {
                response
                    .headers
                    .insert(RETRY_AFTER, HeaderValue::from_static(SHED_RETRY_AFTER_SECS));
            }
            GatewayError::Throttled { retry_after, .. } => {
                // Whole seconds, rounded up: a client that waits that long finds room.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                response
                    .headers
                    .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            _ => {}
        }
        response
    }
}

/// The `Retry-After` (seconds) of a shed request: saturation is expected to pass quickly.
const SHED_RETRY_AFTER_SECS: &str = "1";

/// The response header naming the gateway response type, so clients and logs can tell a
/// gateway answer from the backend's without parsing the body.
pub const ERROR_TYPE_HEADER: &str = "x-wasmgate-error";

/// Renders a gateway response of `kind` for the request `request_id`.
pub fn render(kind: ErrorType, request_id: &str) -> ResponseState {
    let body = ErrorBody {
        message: kind.message,
        error_type: kind.name,
        request_id: Some(request_id),
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(errors::CONTENT_TYPE));
    headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(kind.name));
    ResponseState {
        status: StatusCode::from_u16(kind.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: Some(Bytes::from(body.to_json())),
        body_replaced: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_not_allowed_lists_allowed_methods() {
        let error = GatewayError::MethodNotAllowed {
            method: Method::DELETE,
            path: "/x".into(),
            allow: vec![Method::GET, Method::PUT],
        };
        let response = error.to_response("req-1");
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers[ALLOW], "GET, PUT");
        let body: serde_json::Value =
            serde_json::from_slice(response.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["type"], "METHOD_NOT_ALLOWED");
        assert_eq!(body["requestId"], "req-1");
    }

    #[test]
    fn a_saturated_plugin_sheds_with_503_and_retry_after() {
        let error = GatewayError::Saturated {
            plugin: "waf".into(),
            max_instances: 4,
        };
        let response = error.to_response("req-2");
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers[RETRY_AFTER], "1");
        assert_eq!(response.headers[ERROR_TYPE_HEADER], "SERVICE_UNAVAILABLE");
    }
}
