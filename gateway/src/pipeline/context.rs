//! The one context a request carries through every phase: the snapshot it loaded (kept to the
//! end, so a reload never changes a request half-way), the exchange plugins see, and what the
//! metrics, the access log and the spans need to know about it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderValue, Method};

use crate::exchange::Exchange;
use crate::integration::IntegrationRuntime;
use crate::otel::RequestSpans;
use crate::record::Recording;
use crate::snapshot::{Chains, RouteRuntime, Snapshot};
use crate::tls::TlsInfo;
use crate::tracecontext::TraceParent;

/// The client connection a request arrived on.
#[derive(Debug)]
pub struct ClientConnection {
    /// The client's address.
    pub peer: SocketAddr,
    /// What the TLS handshake established; `None` on a plain listener.
    pub tls: Option<TlsInfo>,
    /// Whether the verified client identity is forwarded upstream as `x-client-cert-*`
    /// headers (client-sent copies are removed either way on such a listener).
    pub forward_client_identity: bool,
    /// The client's IP address as text, written once per connection (every request's context
    /// bag and `X-Forwarded-For` carry it).
    client_ip: HeaderValue,
}

impl ClientConnection {
    /// A connection from `peer`, with what its TLS handshake established (if any).
    pub fn new(peer: SocketAddr, tls: Option<TlsInfo>, forward_client_identity: bool) -> Self {
        ClientConnection {
            peer,
            tls,
            forward_client_identity,
            client_ip: HeaderValue::try_from(peer.ip().to_string())
                .expect("an IP address is a valid header value"),
        }
    }

    /// The client's IP address as text.
    pub fn client_ip(&self) -> &str {
        self.client_ip
            .to_str()
            .expect("an IP address is visible ASCII")
    }

    /// The client's IP address as a header value (for `X-Forwarded-For`).
    pub fn client_ip_header(&self) -> &HeaderValue {
        &self.client_ip
    }
}

/// One request on its way through the phases.
pub(super) struct RequestContext {
    /// The snapshot loaded when the request arrived.
    pub(super) snapshot: Arc<Snapshot>,
    /// What plugins see and edit.
    pub(super) exchange: Box<Exchange>,
    /// The request's spans (a no-op unless the trace is exported and sampled).
    pub(super) spans: RequestSpans,
    /// The request's trace context (the client's, or a new one).
    pub(super) trace: TraceParent,
    /// The matched route's index in the snapshot, once routing found one; until then (and
    /// for requests no route takes) the global chain serves the request.
    pub(super) route: Option<usize>,
    /// The deployment (stage) the request was assigned to (0 until routing, and without
    /// stages): whose global chain serves it when no route takes it.
    pub(super) deployment: usize,
    /// Where the request came from and when.
    pub(super) client: ClientFacts,
    /// How long the backend took to answer, when it was called.
    pub(super) integration_time: Option<Duration>,
    /// The gateway response type, when the gateway answered the request itself.
    pub(super) gateway_response: Option<&'static str>,
    /// Whether the request was sent to the canary upstream (`Some(false)`: to the route's
    /// own); `None` until an `http` integration runs.
    pub(super) to_canary: Option<bool>,
    /// What the stages did, when `[record]` chose the request (see [`crate::record`]).
    pub(super) recording: Option<Box<Recording>>,
}

/// The request as the client sent it (plugins may rewrite the exchange's copy).
pub(super) struct ClientFacts {
    pub(super) peer: SocketAddr,
    /// The peer's IP address as text, for `X-Forwarded-For`.
    pub(super) client_ip: HeaderValue,
    /// Whether it came over TLS.
    pub(super) tls: bool,
    pub(super) started: Instant,
    pub(super) arrived: SystemTime,
    pub(super) method: Method,
    /// The path, kept only when the access log or a span will name it.
    pub(super) path: String,
    /// The `Host` (or `:authority`) asked for, for `X-Forwarded-Host`.
    pub(super) host: Option<HeaderValue>,
}

impl RequestContext {
    /// The matched route.
    pub(super) fn matched_route(&self) -> Option<&RouteRuntime> {
        self.route.map(|index| &self.snapshot.routes[index])
    }

    /// The upstream the request was sent to, and whether it was the route's canary
    /// (`None` for a request that reached no `http` integration).
    pub(super) fn upstream_sent_to(&self) -> Option<(&str, Option<bool>)> {
        let to_canary = self.to_canary?;
        let IntegrationRuntime::Http {
            upstream, canary, ..
        } = &self.matched_route()?.integration
        else {
            return None;
        };
        match canary {
            Some(split) if to_canary => Some((split.upstream.name(), Some(true))),
            Some(_) => Some((upstream.name(), Some(false))),
            None => Some((upstream.name(), None)),
        }
    }

    /// The matched route's id.
    pub(super) fn route_id(&self) -> Option<&str> {
        self.matched_route().map(|route| route.id.as_str())
    }

    /// The chains that serve the request.
    pub(super) fn chains(&self) -> &Chains {
        chains_of(&self.snapshot, self.route, self.deployment)
    }
}

/// The chains that serve a request on `route`: the route's (global plugins first), or the
/// global chain of its deployment alone when no route matched. A free function, so a phase
/// can borrow the snapshot's chains while lending the exchange to them.
pub(super) fn chains_of(snapshot: &Snapshot, route: Option<usize>, deployment: usize) -> &Chains {
    match route {
        Some(index) => &snapshot.routes[index].chains,
        None => snapshot.global(deployment),
    }
}
