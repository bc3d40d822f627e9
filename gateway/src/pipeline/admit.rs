//! Phase 1, admit: a request's head becomes a [`RequestContext`] — request id, trace context,
//! context bag, the exchange plugins will see — and is checked against the edge limits.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::header::{CONTENT_LENGTH, HOST, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, HeaderName, Method, Uri};

use super::context::{ClientConnection, ClientFacts, RequestContext};
use crate::config::GatewaySettings;
use crate::exchange::{ContextBag, Exchange, RequestState};
use crate::gateway_response::GatewayError;
use crate::routing::normalize_path;
use crate::snapshot::Snapshot;

/// Builds the request's context on `snapshot`; `Err` when the request is over an edge limit
/// (it then goes no further than the global response chain).
pub(super) fn admit(
    snapshot: Arc<Snapshot>,
    parts: Parts,
    connection: &ClientConnection,
) -> (RequestContext, Result<(), GatewayError>) {
    let started = Instant::now();
    let arrived = SystemTime::now();
    let settings = &snapshot.config.gateway;
    let request_id = request_id(&parts.headers, &settings.request_id_header);
    let (trace, spans) =
        crate::otel::begin(snapshot.otel.as_deref(), &parts.headers, started, arrived);
    let mut context = ContextBag::default();
    context.insert(ContextBag::REQUEST_ID, request_id);
    context.insert(ContextBag::CLIENT_IP, connection.client_ip());
    context.insert(ContextBag::TRACE_ID, trace.trace_id.clone());
    if let Some(tls) = &connection.tls {
        tls.fill_context(&mut context);
    }
    let mut headers = parts.headers;
    if let (Some(tls), true) = (&connection.tls, connection.forward_client_identity) {
        tls.forward_identity(&mut headers);
    }
    let admitted = match edge_limits(settings, &parts.method, &parts.uri, &headers) {
        Some(error) => Err(error),
        None => Ok(()),
    };
    let logs_path = snapshot.access_log.is_some() || spans.is_recording();
    let client = ClientFacts {
        peer: connection.peer,
        client_ip: connection.client_ip_header().clone(),
        tls: connection.tls.is_some(),
        started,
        arrived,
        method: parts.method.clone(),
        path: if logs_path {
            parts.uri.path().to_owned()
        } else {
            String::new()
        },
        // The request target's authority first: HTTP/2's `:authority`, or an absolute-form
        // HTTP/1.1 target, which RFC 9112 §3.2.2 says wins over `Host`.
        host: parts
            .uri
            .authority()
            .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok())
            .or_else(|| headers.get(HOST).cloned()),
    };
    let exchange = Exchange {
        request: RequestState {
            method: parts.method,
            path: normalize_path(parts.uri.path()),
            query: parts.uri.query().map(str::to_owned),
            headers,
            ..RequestState::default()
        },
        response: None,
        context,
        plugin_time: std::time::Duration::ZERO,
    };
    let request = RequestContext {
        snapshot,
        exchange: Box::new(exchange),
        spans,
        trace,
        route: None,
        deployment: 0,
        client,
        integration_time: None,
        gateway_response: None,
        to_canary: None,
        recording: None,
    };
    (request, admitted)
}

/// The request id: the client's (when it sent a sane one) or a new UUID (from a userspace
/// generator seeded once per thread: no system call per request).
fn request_id(headers: &HeaderMap, header: &HeaderName) -> String {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The gateway response for a request over the edge limits: headers larger than
/// `max_header_bytes` (431), or a declared body larger than `max_body_bytes` (413, before a
/// byte of it is read). A chunked body is cut off at the limit as it streams.
fn edge_limits(
    settings: &GatewaySettings,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<GatewayError> {
    // The request line and each `name: value\r\n`, as HTTP/1.1 would carry them.
    let target = uri.scheme_str().map_or(0, |s| s.len() + "://".len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = method.as_str().len() + " ".len() + target + " HTTP/1.1\r\n".len();
    let size = headers.iter().fold(line, |total, (name, value)| {
        total + name.as_str().len() + value.len() + 4
    });
    if size > settings.max_header_bytes {
        return Some(GatewayError::HeadersTooLarge {
            size,
            limit: settings.max_header_bytes,
        });
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > settings.max_body_bytes => Some(GatewayError::BodyTooLarge {
            limit: settings.max_body_bytes,
        }),
        _ => None,
    }
}
