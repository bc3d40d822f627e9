//! The one place a gateway error becomes a response: rendered from the gateway-response
//! registry, counted, logged with the request id, and remembered on the request so the access
//! log and the span can name it without parsing the response back.

use super::answer::Answer;
use super::context::RequestContext;
use crate::gateway_response::GatewayError;
use crate::metrics::{GATEWAY_RESPONSES_TOTAL, REQUESTS_SHED_TOTAL};

/// The gateway response for `error`.
pub(super) fn rescue(error: GatewayError, request: &mut RequestContext) -> Answer {
    let kind = error.response_type();
    metrics::counter!(GATEWAY_RESPONSES_TOTAL, "type" => kind.name).increment(1);
    let request_id = request.exchange.request_id();
    match &error {
        GatewayError::NoRoute { .. } | GatewayError::MethodNotAllowed { .. } => {
            tracing::debug!(request_id, %error, "gateway response");
        }
        GatewayError::Saturated { plugin, .. } => {
            metrics::counter!(REQUESTS_SHED_TOTAL, "reason" => "plugin_saturated", "plugin" => plugin.clone())
                .increment(1);
            tracing::debug!(request_id, %error, "request shed");
        }
        GatewayError::Plugin { plugin, stage, .. } => {
            // The chain already logged the failure in full (a trap's backtrace included).
            tracing::debug!(request_id, plugin, %stage, "gateway response to a failed plugin");
        }
        _ => tracing::warn!(request_id, %error, "gateway response"),
    }
    let response = error.to_response(request_id);
    request.gateway_response = Some(kind.name);
    Answer::buffered(response)
}
