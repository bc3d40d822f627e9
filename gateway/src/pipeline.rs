//! The request lifecycle: route match → METHOD REQUEST chain → INTEGRATION REQUEST chain →
//! integration → INTEGRATION RESPONSE chain → METHOD RESPONSE chain → response sent → LOG chain.
//!
//! A request-side plugin that answers (`respond`) skips the stages up to the integration
//! response: its answer goes through the METHOD RESPONSE chain like any other. A response-side
//! plugin that answers replaces the response and ends its own stage's chain. Errors the gateway
//! produces (no route, plugin failure, upstream failure) are gateway responses, and they too go
//! through the METHOD RESPONSE and LOG chains (of the global chain when no route matched).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{HeaderName, Method, Request, Response};
use hyper::body::Incoming;

use crate::body::{self, BufferError, GatewayBody, NotifyWhenDone};
use crate::config::FailurePolicy;
use crate::gateway_response::GatewayError;
use crate::integration::{Forwarded, HttpUpstream, IntegrationRuntime, strip_hop_by_hop};
use crate::otel::{IntegrationRecord, RequestSpans, ServerFacts};
use crate::plugin::{
    ConfiguredPlugin, ContextBag, Exchange, RequestState, ResponseState, Stage, StageAction,
};
use crate::routing::{Matched, RouteMatch, normalize_path};
use crate::snapshot::{Chains, RouteRuntime, Snapshot};
use crate::tls::TlsInfo;

/// How long a client may take to send a body the gateway buffers for plugins.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The response being assembled: its head as plugins see it, and, when no plugin buffered or
/// replaced it, the body still streaming from the backend.
struct Answer {
    response: ResponseState,
    streaming_body: Option<GatewayBody>,
    /// How long the backend took to answer, when it was called.
    integration_time: Option<Duration>,
}

impl Answer {
    fn buffered(response: ResponseState) -> Self {
        Answer {
            response,
            streaming_body: None,
            integration_time: None,
        }
    }
}

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
}

/// Which chains a request runs through.
#[derive(Clone, Copy)]
enum ChainsOf {
    /// The matched route's (global plugins first).
    Route(usize),
    /// The global chain alone: no route matched.
    Global,
}

impl ChainsOf {
    fn resolve(self, snapshot: &Snapshot) -> &Chains {
        match self {
            ChainsOf::Route(index) => &snapshot.routes[index].chains,
            ChainsOf::Global => &snapshot.global,
        }
    }
}

/// Serves one request on `snapshot`, which the caller loaded once for this request.
pub async fn handle(
    snapshot: Arc<Snapshot>,
    request: Request<Incoming>,
    connection: &ClientConnection,
) -> Response<NotifyWhenDone> {
    let client = connection.peer;
    let started = Instant::now();
    let arrived = std::time::SystemTime::now();
    let (parts, incoming) = request.into_parts();
    let request_id = request_id(&parts.headers, &snapshot.config.gateway.request_id_header);
    let (trace, mut spans) =
        crate::otel::begin(snapshot.otel.as_deref(), &parts.headers, started, arrived);
    let mut context = ContextBag::default();
    context.insert(ContextBag::REQUEST_ID, request_id);
    context.insert(ContextBag::CLIENT_IP, client.ip().to_string());
    context.insert(ContextBag::TRACE_ID, trace.trace_id.clone());
    if let Some(tls) = &connection.tls {
        tls.fill_context(&mut context);
    }
    let mut headers = parts.headers;
    if let (Some(tls), true) = (&connection.tls, connection.forward_client_identity) {
        tls.forward_identity(&mut headers);
    }
    let rejected = edge_limits(
        &snapshot.config.gateway,
        &parts.method,
        &parts.uri,
        &headers,
    );
    let client_method = parts.method.clone();
    let client_path = (snapshot.access_log.is_some() || spans.is_recording())
        .then(|| parts.uri.path().to_owned());
    let host = headers.get(http::header::HOST).cloned().or_else(|| {
        let authority = parts.uri.authority()?;
        HeaderValue::from_str(authority.as_str()).ok()
    });
    let mut exchange = Exchange {
        request: RequestState {
            method: parts.method,
            path: normalize_path(parts.uri.path()),
            query: parts.uri.query().map(str::to_owned),
            headers,
            ..RequestState::default()
        },
        response: None,
        context,
        plugin_time: Duration::ZERO,
    };

    let request = &exchange.request;
    // A request over the edge limits goes no further than the global response chain.
    let lookup = match rejected {
        Some(error) => Err(error),
        None => Ok(snapshot.router.lookup(
            &request.method,
            &request.path,
            &request.headers,
            request.query.as_deref(),
        )),
    };
    let (chains, answer) = match lookup {
        Err(error) => (ChainsOf::Global, gateway_error(error, &exchange)),
        Ok(RouteMatch::Found(found)) => {
            let index = found.route;
            let route = &snapshot.routes[index];
            let hop = trace.child();
            let forwarded = Forwarded {
                client,
                host: host.as_ref(),
                proto: if connection.tls.is_some() {
                    "https"
                } else {
                    "http"
                },
                traceparent: hop.to_header(),
            };
            let request = Served {
                exchange: &mut exchange,
                spans: &mut spans,
                hop_span_id: hop.span_id,
            };
            let answer = serve_route(&snapshot, route, found, request, incoming, forwarded).await;
            (ChainsOf::Route(index), answer)
        }
        Ok(RouteMatch::NotFound) => {
            let error = GatewayError::NoRoute {
                method: exchange.request.method.clone(),
                path: exchange.request.path.clone(),
            };
            (ChainsOf::Global, gateway_error(error, &exchange))
        }
        Ok(RouteMatch::MethodNotAllowed { allow }) => {
            match answer_preflight(&snapshot, &mut exchange, &mut spans).await {
                Some(answered) => answered,
                None => {
                    let error = GatewayError::MethodNotAllowed {
                        method: exchange.request.method.clone(),
                        path: exchange.request.path.clone(),
                        allow,
                    };
                    (ChainsOf::Global, gateway_error(error, &exchange))
                }
            }
        }
    };
    let answer = respond(
        chains.resolve(&snapshot),
        Stage::MethodResponse,
        &mut exchange,
        &mut spans,
        answer,
    )
    .await;
    let extra_headers = match chains {
        ChainsOf::Route(index) => snapshot.routes[index].deprecation_headers.as_slice(),
        ChainsOf::Global => &[],
    };
    record_request(
        &snapshot,
        chains,
        &client_method,
        &answer,
        started.elapsed(),
    );
    let facts = RequestFacts {
        started,
        arrived,
        method: client_method,
        path: client_path.unwrap_or_default(),
        client,
        integration_time: answer.integration_time,
    };
    finish(
        snapshot.clone(),
        chains,
        exchange,
        spans,
        answer,
        extra_headers,
        facts,
    )
}

/// What the access log and the request's span need to know beyond the exchange.
struct RequestFacts {
    started: Instant,
    arrived: std::time::SystemTime,
    method: Method,
    path: String,
    client: SocketAddr,
    integration_time: Option<Duration>,
}

/// A request on a matched route: its exchange, its span recorder, and the span id of the
/// gateway's hop to the upstream (sent in `traceparent`).
struct Served<'a> {
    exchange: &'a mut Exchange,
    spans: &'a mut RequestSpans,
    hop_span_id: String,
}

/// Records the request's metrics (labels bounded: route ids, method and status classes).
fn record_request(
    snapshot: &Snapshot,
    chains: ChainsOf,
    method: &Method,
    answer: &Answer,
    total: Duration,
) {
    use crate::metrics::*;
    let route = match chains {
        ChainsOf::Route(index) => snapshot.routes[index].id.clone(),
        ChainsOf::Global => "_unmatched".to_owned(),
    };
    let status = status_label(answer.response.status);
    metrics::counter!(REQUESTS_TOTAL, "route" => route.clone(), "method" => method_label(method), "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "route" => route.clone()).record(total.as_secs_f64());
    let integration = answer.integration_time.unwrap_or_default();
    if answer.integration_time.is_some() {
        metrics::histogram!(INTEGRATION_DURATION, "route" => route.clone())
            .record(integration.as_secs_f64());
    }
    metrics::histogram!(GATEWAY_DURATION, "route" => route)
        .record(total.saturating_sub(integration).as_secs_f64());
}

/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) on a path with no
/// `OPTIONS` route is offered to the method-request chain of the route the browser asks about,
/// so a CORS plugin there can answer it. The integration is never called for a preflight: if no
/// plugin answers, the caller answers 405 as for any other method.
async fn answer_preflight(
    snapshot: &Snapshot,
    exchange: &mut Exchange,
    spans: &mut RequestSpans,
) -> Option<(ChainsOf, Answer)> {
    let request = &exchange.request;
    if request.method != Method::OPTIONS {
        return None;
    }
    let requested = request
        .headers
        .get("access-control-request-method")
        .and_then(|v| Method::from_bytes(v.as_bytes()).ok())?;
    let lookup = snapshot.router.lookup(
        &requested,
        &request.path,
        &request.headers,
        request.query.as_deref(),
    );
    let RouteMatch::Found(found) = lookup else {
        return None;
    };
    let route = &snapshot.routes[found.route];
    exchange
        .context
        .insert(ContextBag::ROUTE_ID, route.id.clone());
    exchange.request.path_params = found.params;
    let plugins = route.chains.at(Stage::MethodRequest);
    let response = run_chain(Stage::MethodRequest, plugins, exchange, spans).await?;
    Some((ChainsOf::Route(found.route), Answer::buffered(response)))
}

/// The request side, the integration and the integration-response stage of a matched route.
async fn serve_route(
    snapshot: &Snapshot,
    route: &RouteRuntime,
    found: Matched,
    request: Served<'_>,
    incoming: Incoming,
    forwarded: Forwarded<'_>,
) -> Answer {
    let Served {
        exchange,
        spans,
        hop_span_id,
    } = request;
    exchange
        .context
        .insert(ContextBag::ROUTE_ID, route.id.clone());
    if let Some(version) = found.version {
        exchange.context.insert(ContextBag::API_VERSION, version);
    }
    exchange.request.path = found.path;
    exchange.request.path_params = found.params;
    let settings = &snapshot.config.gateway;
    if let Ok(value) = HeaderValue::from_str(exchange.request_id()) {
        let name = settings.request_id_header.clone();
        exchange.request.headers.insert(name, value);
    }

    // Bodies are buffered only when a plugin of the route reads them.
    let mut request_body = Some(incoming);
    if route.chains.reads_request_body() {
        let incoming = request_body.take().expect("body not yet taken");
        let buffered = tokio::time::timeout(
            REQUEST_BODY_TIMEOUT,
            body::buffer(incoming, settings.max_body_bytes),
        );
        match buffered.await {
            Ok(Ok(bytes)) => exchange.request.body = Some(bytes),
            Ok(Err(BufferError::TooLarge(limit))) => {
                return gateway_error(GatewayError::BodyTooLarge { limit }, exchange);
            }
            Ok(Err(BufferError::Read(reason))) => {
                return gateway_error(GatewayError::BodyRead(reason), exchange);
            }
            Err(_) => {
                let reason = format!("not received within {REQUEST_BODY_TIMEOUT:?}");
                return gateway_error(GatewayError::BodyRead(reason), exchange);
            }
        }
    }

    for stage in [Stage::MethodRequest, Stage::IntegrationRequest] {
        if let Some(response) = run_chain(stage, route.chains.at(stage), exchange, spans).await {
            return Answer::buffered(response);
        }
    }
    let answer = match &route.integration {
        IntegrationRuntime::Mock(mock) => Answer::buffered(IntegrationRuntime::mock_response(mock)),
        IntegrationRuntime::Http(upstream) => {
            let outgoing_body = match (exchange.request.body.clone(), request_body) {
                (Some(bytes), _) => body::full(bytes),
                (None, Some(incoming)) => body::stream_limited(incoming, settings.max_body_bytes),
                (None, None) => body::empty(),
            };
            if exchange.request.body.is_some() {
                // In memory, possibly replaced: the client sets the length from the body.
                exchange.request.headers.remove(CONTENT_LENGTH);
            }
            let recording = spans.is_recording();
            let call = recording.then(|| (exchange.request.method.clone(), Instant::now()));
            let result = call_upstream(
                upstream,
                &route.chains,
                exchange,
                outgoing_body,
                forwarded,
                settings.max_body_bytes,
            )
            .await;
            if let Some((method, start)) = call {
                spans.integration(IntegrationRecord {
                    span_id: hop_span_id,
                    method,
                    upstream: upstream.name().to_owned(),
                    url: snapshot
                        .config
                        .upstreams
                        .get(upstream.name())
                        .map(|u| u.url.clone()),
                    start,
                    end: Instant::now(),
                    result: match &result {
                        Ok(answer) => Ok(answer.response.status),
                        Err(error) => Err(error.response_type().name),
                    },
                });
            }
            result.unwrap_or_else(|error| gateway_error(error, exchange))
        }
    };
    let stage = Stage::IntegrationResponse;
    respond(&route.chains, stage, exchange, spans, answer).await
}

/// Calls the upstream and takes its response, buffering the body when a plugin reads it
/// (within what is left of the integration timeout).
async fn call_upstream(
    upstream: &HttpUpstream,
    chains: &Chains,
    exchange: &Exchange,
    body: GatewayBody,
    forwarded: Forwarded<'_>,
    limit: u64,
) -> Result<Answer, GatewayError> {
    let started = tokio::time::Instant::now();
    let response = upstream
        .send(&exchange.request, body, limit, forwarded)
        .await
        .inspect_err(|error| {
            let kind = match error {
                // The client's fault, not the upstream's.
                GatewayError::BodyTooLarge { .. } => return,
                GatewayError::UpstreamTimeout { .. } => "timeout",
                _ => "error",
            };
            metrics::counter!(crate::metrics::UPSTREAM_ERRORS_TOTAL, "upstream" => upstream.name().to_owned(), "kind" => kind)
                .increment(1);
        })?;
    let integration_time = Some(started.elapsed());
    let (parts, incoming) = response.into_parts();
    let mut state = ResponseState {
        status: parts.status,
        headers: parts.headers,
        body: None,
        body_replaced: false,
    };
    if !chains.reads_response_body() {
        return Ok(Answer {
            response: state,
            streaming_body: Some(body::stream(incoming)),
            integration_time,
        });
    }
    let remaining = upstream.timeout().saturating_sub(started.elapsed());
    match tokio::time::timeout(remaining, body::buffer(incoming, limit)).await {
        Ok(Ok(bytes)) => {
            state.body = Some(bytes);
            Ok(Answer {
                integration_time,
                ..Answer::buffered(state)
            })
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

/// The gateway response for a request over the edge limits: headers larger than
/// `max_header_bytes` (431), or a declared body larger than `max_body_bytes` (413, before a
/// byte of it is read). A chunked body is cut off at the limit as it streams.
fn edge_limits(
    settings: &crate::config::GatewaySettings,
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
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

/// The request id: the client's (when it sent a sane one) or a new UUID.
fn request_id(headers: &http::HeaderMap, header: &HeaderName) -> String {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The gateway response for `error`, logged with the request id.
fn gateway_error(error: GatewayError, exchange: &Exchange) -> Answer {
    let request_id = exchange.request_id();
    count_gateway_response(&error);
    match &error {
        GatewayError::NoRoute { .. } | GatewayError::MethodNotAllowed { .. } => {
            tracing::debug!(request_id, %error, "gateway response");
        }
        _ => tracing::warn!(request_id, %error, "gateway response"),
    }
    Answer::buffered(error.to_response(request_id))
}

fn count_gateway_response(error: &GatewayError) {
    let kind = error.response_type().name;
    metrics::counter!(crate::metrics::GATEWAY_RESPONSES_TOTAL, "type" => kind).increment(1);
}

/// Runs a chain; returns the response a plugin answered with (or the gateway response for a
/// plugin that failed under the `closed` policy). A chain that ran is a span of the request.
async fn run_chain(
    stage: Stage,
    plugins: &[Arc<ConfiguredPlugin>],
    exchange: &mut Exchange,
    spans: &mut RequestSpans,
) -> Option<ResponseState> {
    if plugins.is_empty() {
        return None;
    }
    let started = spans.is_recording().then(Instant::now);
    let answered = run_plugins(stage, plugins, exchange, spans).await;
    if let Some(started) = started {
        spans.stage(stage, started, answered.is_some());
    }
    answered
}

async fn run_plugins(
    stage: Stage,
    plugins: &[Arc<ConfiguredPlugin>],
    exchange: &mut Exchange,
    spans: &mut RequestSpans,
) -> Option<ResponseState> {
    for plugin in plugins {
        let started = Instant::now();
        let result = plugin.call(stage, exchange).await;
        let ended = Instant::now();
        exchange.plugin_time += ended - started;
        spans.plugin_call(plugin.name(), started, ended, &result);
        match result {
            Ok(StageAction::Continue) => {}
            Ok(StageAction::Respond(response)) => return Some(response),
            Err(failure) => {
                tracing::warn!(
                    plugin = plugin.name(),
                    %stage,
                    request_id = exchange.request_id(),
                    failure = failure.kind(),
                    policy = ?plugin.failure_policy(),
                    "{failure}"
                );
                if plugin.failure_policy() == FailurePolicy::Closed && stage != Stage::Log {
                    let error = GatewayError::Plugin {
                        plugin: plugin.name().to_owned(),
                        stage,
                        failure,
                    };
                    count_gateway_response(&error);
                    return Some(error.to_response(exchange.request_id()));
                }
            }
        }
    }
    None
}

/// Runs a response-side stage: the response is lent to the plugins, and a plugin's answer
/// replaces it.
async fn respond(
    chains: &Chains,
    stage: Stage,
    exchange: &mut Exchange,
    spans: &mut RequestSpans,
    answer: Answer,
) -> Answer {
    let plugins = chains.at(stage);
    if plugins.is_empty() {
        return answer;
    }
    let Answer {
        response,
        streaming_body,
        integration_time,
    } = answer;
    exchange.response = Some(response);
    let replaced = run_chain(stage, plugins, exchange, spans).await;
    let lent_back = exchange.response.take().unwrap_or_default();
    match replaced {
        Some(response) => Answer {
            integration_time,
            ..Answer::buffered(response)
        },
        None => Answer {
            response: lent_back,
            streaming_body,
            integration_time,
        },
    }
}

/// Builds the response to send and, once it has been sent, writes the access log line and runs
/// the log-stage plugins (when there are any).
fn finish(
    snapshot: Arc<Snapshot>,
    chains: ChainsOf,
    mut exchange: Exchange,
    mut spans: RequestSpans,
    answer: Answer,
    extra_headers: &[(HeaderName, HeaderValue)],
    facts: RequestFacts,
) -> Response<NotifyWhenDone> {
    let Answer {
        mut response,
        streaming_body,
        ..
    } = answer;
    strip_hop_by_hop(&mut response.headers);
    let request_id_header = snapshot.config.gateway.request_id_header.clone();
    if let Ok(value) = HeaderValue::from_str(exchange.request_id()) {
        response.headers.insert(request_id_header, value);
    }
    for (name, value) in extra_headers {
        response.headers.insert(name.clone(), value.clone());
    }
    let body = match (response.body_replaced, streaming_body) {
        (false, Some(stream)) => stream,
        (replaced, _) => {
            // The body is in memory: hyper sets `content-length` from it. A HEAD answer keeps
            // the backend's length, which describes the body a GET would have had.
            if replaced || facts.method != Method::HEAD {
                response.headers.remove(CONTENT_LENGTH);
            }
            body::full(response.body.clone().unwrap_or_else(Bytes::new))
        }
    };
    let has_log_plugins = !chains.resolve(&snapshot).at(Stage::Log).is_empty();
    if !has_log_plugins && snapshot.access_log.is_none() && !spans.is_recording() {
        let mut outgoing = Response::new(NotifyWhenDone::unobserved(body));
        *outgoing.status_mut() = response.status;
        *outgoing.headers_mut() = response.headers;
        return outgoing;
    }
    let (body, sent) = NotifyWhenDone::new(body);
    let mut outgoing = Response::new(body);
    *outgoing.status_mut() = response.status;
    *outgoing.headers_mut() = response.headers.clone();
    exchange.response = Some(response);
    tokio::spawn(async move {
        // Resolves when the response body is dropped: fully sent, or the client went away.
        let bytes_out = sent.await.unwrap_or_default();
        let sent_at = Instant::now();
        if let Some(log) = &snapshot.access_log {
            log.record(&access_log_entry(
                &snapshot, chains, &exchange, &facts, bytes_out,
            ));
        }
        if has_log_plugins {
            let plugins = chains.resolve(&snapshot).at(Stage::Log);
            run_chain(Stage::Log, plugins, &mut exchange, &mut spans).await;
        }
        if let Some(exporter) = snapshot.otel.as_deref().filter(|_| spans.is_recording()) {
            let facts = server_facts(&snapshot, chains, &exchange, &facts, sent_at);
            exporter.export(spans, &facts);
        }
    });
    outgoing
}

/// What the request's SERVER span says, once the response was sent.
fn server_facts<'a>(
    snapshot: &'a Snapshot,
    chains: ChainsOf,
    exchange: &'a Exchange,
    facts: &'a RequestFacts,
    sent_at: Instant,
) -> ServerFacts<'a> {
    let response = exchange.response.as_ref();
    ServerFacts {
        method: &facts.method,
        route: match chains {
            ChainsOf::Route(index) => Some(snapshot.routes[index].id.as_str()),
            ChainsOf::Global => None,
        },
        path: &facts.path,
        client: facts.client,
        status: response.map_or(http::StatusCode::OK, |r| r.status),
        request_id: exchange.request_id(),
        gateway_response: gateway_response_type(response),
        ended: sent_at,
    }
}

/// The gateway response type, when the gateway answered itself.
fn gateway_response_type(response: Option<&ResponseState>) -> Option<&str> {
    response
        .and_then(|r| r.headers.get(crate::gateway_response::ERROR_TYPE_HEADER))
        .and_then(|v| v.to_str().ok())
}

fn access_log_entry<'a>(
    snapshot: &'a Snapshot,
    chains: ChainsOf,
    exchange: &'a Exchange,
    facts: &'a RequestFacts,
    bytes_out: u64,
) -> crate::access_log::Entry<'a> {
    let context = &exchange.context;
    let response = exchange.response.as_ref();
    let bytes_in = exchange.request.body.as_ref().map_or_else(
        || {
            let length = exchange.request.headers.get(CONTENT_LENGTH);
            length
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or_default()
        },
        |body| body.len() as u64,
    );
    crate::access_log::Entry {
        time: Some(facts.arrived),
        request_id: exchange.request_id(),
        trace_id: context.get(ContextBag::TRACE_ID).unwrap_or_default(),
        client_ip: context.get(ContextBag::CLIENT_IP).unwrap_or_default(),
        method: facts.method.as_str(),
        route: match chains {
            ChainsOf::Route(index) => Some(snapshot.routes[index].id.as_str()),
            ChainsOf::Global => None,
        },
        path: &facts.path,
        status: response.map_or(0, |r| r.status.as_u16()),
        bytes_in,
        bytes_out,
        duration: facts.started.elapsed(),
        integration: facts.integration_time,
        plugins: exchange.plugin_time,
        principal: context.get("auth.principal"),
        api_key_id: context.get("api-key.id"),
        gateway_response: gateway_response_type(response),
    }
}
