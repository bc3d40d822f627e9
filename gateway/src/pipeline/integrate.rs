//! Phase 4, the integration: what answers a matched route once the request side let it
//! through — a mock from config, or the upstream (the body streamed unless a plugin buffered
//! it; the response buffered only when a plugin of the route reads it).

use std::sync::Arc;
use std::time::Instant;

use http::header::CONTENT_LENGTH;
use hyper::body::{Body, Incoming};

use super::answer::Answer;
use super::context::RequestContext;
use super::rescue::rescue;
use bytes::Bytes;
use http::Uri;

use crate::body;
use crate::exchange::ResponseState;
use crate::gateway_response::GatewayError;
use crate::integration::{
    Answered, Forwarded, HttpUpstream, IntegrationRuntime, OutgoingBody, RouteRetries,
};
use crate::otel::IntegrationRecord;

/// Calls the matched route's integration. `unbuffered` is the client's body when no plugin
/// buffered it.
pub(super) async fn run(request: &mut RequestContext, unbuffered: Option<Incoming>) -> Answer {
    // The route borrows from its own handle on the snapshot, not from the request.
    let snapshot = Arc::clone(&request.snapshot);
    let route = request
        .route
        .expect("the integration runs on a matched route");
    let (upstream, retries) = match &snapshot.routes[route].integration {
        IntegrationRuntime::Mock(mock) => {
            return Answer::buffered(IntegrationRuntime::mock_response(mock));
        }
        IntegrationRuntime::Http {
            upstream,
            retries,
            canary,
        } => match canary {
            Some(split)
                if split.chooses_canary(
                    &request.exchange.request.headers,
                    request.client.client_ip.as_bytes(),
                ) =>
            {
                request.to_canary = Some(true);
                (&split.upstream, retries)
            }
            _ => {
                request.to_canary = Some(false);
                (upstream, retries)
            }
        },
    };
    let recording = request.spans.is_recording();
    let hop = request.trace.child();
    let call = recording.then(|| (request.exchange.request.method.clone(), Instant::now()));
    let result = call_upstream(request, upstream, retries, unbuffered, hop.to_header()).await;
    if let Some((method, start)) = call {
        request.spans.integration(IntegrationRecord {
            span_id: hop.span_id,
            method,
            upstream: upstream.name().to_owned(),
            url: result.as_ref().ok().and_then(|(_, target)| target.clone()),
            start,
            end: Instant::now(),
            result: match &result {
                Ok((answer, _)) => Ok(answer.response.status),
                Err(error) => Err(error.response_type().name),
            },
        });
    }
    match result {
        Ok((answer, _)) => answer,
        Err(error) => rescue(error, request),
    }
}

/// Sends the request as the chains left it and takes the response, buffering its body when a
/// plugin reads it (within what is left of the integration timeout).
/// Returns, with the answer, the URL of the target that gave it (when spans record it).
async fn call_upstream(
    request: &mut RequestContext,
    upstream: &HttpUpstream,
    retries: &RouteRetries,
    unbuffered: Option<Incoming>,
    traceparent: http::HeaderValue,
) -> Result<(Answer, Option<Uri>), GatewayError> {
    let limit = request.snapshot.config.gateway.max_body_bytes;
    let recording = request.spans.is_recording();
    let exchange = &mut request.exchange;
    let outgoing_body = match (exchange.request.body.clone(), unbuffered) {
        (Some(bytes), _) => OutgoingBody::Replayable(bytes),
        (None, Some(incoming)) if incoming.is_end_stream() => {
            OutgoingBody::Replayable(Bytes::new())
        }
        (None, Some(incoming)) => OutgoingBody::Streaming(body::stream_limited(incoming, limit)),
        (None, None) => OutgoingBody::Replayable(Bytes::new()),
    };
    if exchange.request.body.is_some() {
        // In memory, possibly replaced: the client sets the length from the body.
        exchange.request.headers.remove(CONTENT_LENGTH);
    }
    let forwarded = Forwarded {
        client_ip: &request.client.client_ip,
        host: request.client.host.as_ref(),
        proto: if request.client.tls { "https" } else { "http" },
        traceparent,
    };
    let started = tokio::time::Instant::now();
    let Answered { response, target } = upstream
        .send(retries, &exchange.request, outgoing_body, limit, forwarded)
        .await
        .inspect_err(|error| count_upstream_error(upstream, error))?;
    let target = recording
        .then(|| upstream.target_label(target)?.parse().ok())
        .flatten();
    request.integration_time = Some(started.elapsed());
    let (parts, incoming) = response.into_parts();
    let mut state = ResponseState {
        status: parts.status,
        headers: parts.headers,
        body: None,
        body_replaced: false,
    };
    if !request.chains().reads_response_body() {
        let answer = Answer {
            response: state,
            streaming_body: Some(body::stream(incoming)),
        };
        return Ok((answer, target));
    }
    let remaining = upstream.timeout().saturating_sub(started.elapsed());
    match tokio::time::timeout(remaining, body::buffer(incoming, limit)).await {
        Ok(Ok(bytes)) => {
            state.body = Some(bytes);
            Ok((Answer::buffered(state), target))
        }
        Ok(Err(error)) => Err(GatewayError::Upstream {
            upstream: upstream.name().to_owned(),
            reason: format!("cannot buffer the response for plugins: {error}"),
        }),
        Err(_) => Err(GatewayError::UpstreamTimeout {
            upstream: upstream.name().to_owned(),
            timeout_ms: upstream.timeout().as_millis(),
        }),
    }
}

/// Counts a failed backend call (a body over the limit is the client's fault, not counted).
fn count_upstream_error(upstream: &HttpUpstream, error: &GatewayError) {
    let kind = match error {
        GatewayError::BodyTooLarge { .. } => return,
        GatewayError::UpstreamTimeout { .. } => "timeout",
        GatewayError::UpstreamUnavailable { .. } => "unavailable",
        _ => "error",
    };
    metrics::counter!(crate::metrics::UPSTREAM_ERRORS_TOTAL, "upstream" => upstream.name().to_owned(), "kind" => kind)
        .increment(1);
}
