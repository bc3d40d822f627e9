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

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue, TRANSFER_ENCODING};
use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::{self, BufferError, GatewayBody, NotifyWhenDone};
use crate::gateway_response::GatewayError;
use crate::integration::{Forwarded, IntegrationRuntime};
use crate::plugin::{ContextBag, Exchange, RequestState, ResponseState, Stage, StageAction};
use crate::routing::RouteMatch;
use crate::snapshot::{Chains, Snapshot};

/// What a chain decided.
enum ChainOutcome {
    /// Every plugin let the request through.
    Continue,
    /// A plugin (or a plugin failure) produced this response.
    Respond(ResponseState),
}

/// The response being assembled: its head as plugins see it (in the exchange) and, when no
/// plugin buffered it, the body still streaming from the backend.
struct Pending {
    exchange: Exchange,
    streaming_body: Option<GatewayBody>,
}

/// Serves one request on `snapshot`, which the caller loaded once for this request.
pub async fn handle(
    snapshot: Arc<Snapshot>,
    request: Request<Incoming>,
    client: SocketAddr,
) -> Response<NotifyWhenDone> {
    let (parts, incoming) = request.into_parts();
    let settings = &snapshot.config.gateway;
    let request_id = request_id(&parts.headers, &settings.request_id_header);
    let mut context = ContextBag::default();
    context.insert(ContextBag::REQUEST_ID, request_id.clone());
    context.insert(ContextBag::CLIENT_IP, client.ip().to_string());

    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let found = match snapshot
        .router
        .lookup(&parts.method, &path, &parts.headers, query.as_deref())
    {
        RouteMatch::Found(found) => found,
        RouteMatch::NotFound => {
            let error = GatewayError::NoRoute {
                method: parts.method.clone(),
                path,
            };
            let exchange = unrouted_exchange(parts, context);
            return gateway_error_response(&snapshot, error, exchange).await;
        }
        RouteMatch::MethodNotAllowed { allow } => {
            let error = GatewayError::MethodNotAllowed {
                method: parts.method.clone(),
                path,
                allow,
            };
            let exchange = unrouted_exchange(parts, context);
            return gateway_error_response(&snapshot, error, exchange).await;
        }
    };

    let route = &snapshot.routes[found.route];
    context.insert(ContextBag::ROUTE_ID, route.id.clone());
    if let Some(version) = &found.version {
        context.insert(ContextBag::API_VERSION, version.clone());
    }
    let mut headers = parts.headers;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(settings.request_id_header.clone(), value);
    }
    let mut exchange = Exchange {
        request: RequestState {
            method: parts.method,
            path: found.path,
            query,
            headers,
            path_params: found.params,
            body: None,
            body_replaced: false,
        },
        response: None,
        context,
    };
    let host = exchange
        .request
        .headers
        .get(http::header::HOST)
        .cloned()
        .or_else(|| {
            parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });

    // Bodies are buffered only when a plugin of the route reads them.
    let mut request_body = Some(incoming);
    if route.chains.reads_request_body() {
        let incoming = request_body.take().expect("body not yet taken");
        match body::buffer(incoming, settings.max_body_bytes).await {
            Ok(bytes) => exchange.request.body = Some(bytes),
            Err(BufferError::TooLarge(limit)) => {
                let error = GatewayError::BodyTooLarge { limit };
                return respond_with_error(
                    &snapshot,
                    &route.chains,
                    error,
                    exchange,
                    &route.deprecation_headers,
                )
                .await;
            }
            Err(BufferError::Read(reason)) => {
                let error = GatewayError::BodyRead(reason);
                return respond_with_error(
                    &snapshot,
                    &route.chains,
                    error,
                    exchange,
                    &route.deprecation_headers,
                )
                .await;
            }
        }
    }

    let mut pending = 'answer: {
        for stage in [Stage::MethodRequest, Stage::IntegrationRequest] {
            if let ChainOutcome::Respond(response) =
                run_chain(stage, route.chains.at(stage), &mut exchange).await
            {
                exchange.response = Some(response);
                break 'answer Pending {
                    exchange,
                    streaming_body: None,
                };
            }
        }
        let mut pending = match &route.integration {
            IntegrationRuntime::Mock(mock) => {
                exchange.response = Some(IntegrationRuntime::mock_response(mock));
                Pending {
                    exchange,
                    streaming_body: None,
                }
            }
            IntegrationRuntime::Http(upstream) => {
                let outgoing_body = match (exchange.request.body.clone(), request_body.take()) {
                    (Some(bytes), _) => body::full(bytes),
                    (None, Some(incoming)) => body::stream(incoming),
                    (None, None) => body::empty(),
                };
                if exchange.request.body_replaced {
                    exchange.request.headers.remove(CONTENT_LENGTH);
                    exchange.request.headers.remove(TRANSFER_ENCODING);
                }
                let forwarded = Forwarded {
                    client,
                    host: host.as_ref(),
                    proto: "http",
                };
                match upstream
                    .send(&exchange.request, outgoing_body, forwarded)
                    .await
                {
                    Ok(response) => {
                        match upstream_response(
                            response,
                            &route.chains,
                            settings.max_body_bytes,
                            upstream.name(),
                        )
                        .await
                        {
                            Ok((state, streaming_body)) => {
                                exchange.response = Some(state);
                                Pending {
                                    exchange,
                                    streaming_body,
                                }
                            }
                            Err(error) => error_pending(error, exchange),
                        }
                    }
                    Err(error) => error_pending(error, exchange),
                }
            }
        };
        run_response_chain(Stage::IntegrationResponse, &route.chains, &mut pending).await;
        pending
    };
    run_response_chain(Stage::MethodResponse, &route.chains, &mut pending).await;
    finish(
        snapshot.clone(),
        found.route,
        pending,
        &route.deprecation_headers,
    )
}

/// The request id: the client's (when it sent a sane one) or a new UUID.
fn request_id(headers: &http::HeaderMap, header: &http::HeaderName) -> String {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn unrouted_exchange(parts: http::request::Parts, context: ContextBag) -> Exchange {
    Exchange {
        request: RequestState {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            ..RequestState::default()
        },
        response: None,
        context,
    }
}

fn error_pending(error: GatewayError, mut exchange: Exchange) -> Pending {
    tracing::warn!(request_id = exchange.request_id(), %error, "integration failed");
    exchange.response = Some(error.to_response(exchange.request_id()));
    Pending {
        exchange,
        streaming_body: None,
    }
}

/// Answers a request no route matched with a gateway response, through the global chain's
/// method-response and log stages.
async fn gateway_error_response(
    snapshot: &Arc<Snapshot>,
    error: GatewayError,
    exchange: Exchange,
) -> Response<NotifyWhenDone> {
    respond_with_error(snapshot, &snapshot.global, error, exchange, &[]).await
}

async fn respond_with_error(
    snapshot: &Arc<Snapshot>,
    chains: &Chains,
    error: GatewayError,
    mut exchange: Exchange,
    extra_headers: &[(http::HeaderName, HeaderValue)],
) -> Response<NotifyWhenDone> {
    tracing::debug!(request_id = exchange.request_id(), %error, "gateway response");
    exchange.response = Some(error.to_response(exchange.request_id()));
    let mut pending = Pending {
        exchange,
        streaming_body: None,
    };
    run_response_chain(Stage::MethodResponse, chains, &mut pending).await;
    finish_with(snapshot.clone(), LogChain::Global, pending, extra_headers)
}

/// Runs a request-side chain.
async fn run_chain(
    stage: Stage,
    plugins: &[Arc<crate::plugin::ConfiguredPlugin>],
    exchange: &mut Exchange,
) -> ChainOutcome {
    for plugin in plugins {
        match plugin.call(stage, exchange).await {
            Ok(StageAction::Continue) => {}
            Ok(StageAction::Respond(response)) => return ChainOutcome::Respond(response),
            Err(failure) => {
                tracing::warn!(
                    plugin = plugin.name(),
                    %stage,
                    request_id = exchange.request_id(),
                    failure = failure.kind(),
                    policy = ?plugin.failure_policy(),
                    "{failure}"
                );
                if plugin.failure_policy() == crate::config::FailurePolicy::Closed
                    && stage != Stage::Log
                {
                    let error = GatewayError::Plugin {
                        plugin: plugin.name().to_owned(),
                        stage,
                        failure,
                    };
                    return ChainOutcome::Respond(error.to_response(exchange.request_id()));
                }
            }
        }
    }
    ChainOutcome::Continue
}

/// Runs a response-side chain; a plugin's answer replaces the response.
async fn run_response_chain(stage: Stage, chains: &Chains, pending: &mut Pending) {
    if let ChainOutcome::Respond(response) =
        run_chain(stage, chains.at(stage), &mut pending.exchange).await
    {
        pending.exchange.response = Some(response);
        pending.streaming_body = None;
    }
}

/// Takes the backend's response head, buffering its body when a plugin reads it.
async fn upstream_response(
    response: Response<Incoming>,
    chains: &Chains,
    limit: u64,
    upstream: &str,
) -> Result<(ResponseState, Option<GatewayBody>), GatewayError> {
    let (parts, incoming) = response.into_parts();
    let mut state = ResponseState {
        status: parts.status,
        headers: parts.headers,
        body: None,
        body_replaced: false,
    };
    if !chains.reads_response_body() {
        return Ok((state, Some(body::stream(incoming))));
    }
    match body::buffer(incoming, limit).await {
        Ok(bytes) => {
            state.body = Some(bytes);
            Ok((state, None))
        }
        Err(error) => Err(GatewayError::Upstream {
            upstream: upstream.to_owned(),
            reason: format!("cannot buffer the response for plugins: {error}"),
        }),
    }
}

/// Which chain's log stage runs after the response.
enum LogChain {
    Route(usize),
    Global,
}

fn finish(
    snapshot: Arc<Snapshot>,
    route: usize,
    pending: Pending,
    extra_headers: &[(http::HeaderName, HeaderValue)],
) -> Response<NotifyWhenDone> {
    finish_with(snapshot, LogChain::Route(route), pending, extra_headers)
}

/// Builds the response to send and, when the chain has log plugins, schedules them to run
/// once it has been sent.
fn finish_with(
    snapshot: Arc<Snapshot>,
    log_chain: LogChain,
    pending: Pending,
    extra_headers: &[(http::HeaderName, HeaderValue)],
) -> Response<NotifyWhenDone> {
    let Pending {
        mut exchange,
        streaming_body,
    } = pending;
    let mut state = exchange.response.take().unwrap_or_default();
    let request_id_header = snapshot.config.gateway.request_id_header.clone();
    if let Ok(value) = HeaderValue::from_str(exchange.request_id()) {
        state.headers.insert(request_id_header, value);
    }
    for (name, value) in extra_headers {
        state.headers.insert(name.clone(), value.clone());
    }
    let body = match (state.body_replaced, streaming_body) {
        (false, Some(stream)) => stream,
        (replaced, _) => {
            if replaced {
                state.headers.remove(CONTENT_LENGTH);
                state.headers.remove(TRANSFER_ENCODING);
            }
            body::full(state.body.clone().unwrap_or_else(Bytes::new))
        }
    };
    let chains = match log_chain {
        LogChain::Route(index) => &snapshot.routes[index].chains,
        LogChain::Global => &snapshot.global,
    };
    let has_log_plugins = !chains.at(Stage::Log).is_empty();
    let (body, done) = NotifyWhenDone::new(body);
    let mut response = Response::new(body);
    *response.status_mut() = state.status;
    if has_log_plugins {
        *response.headers_mut() = state.headers.clone();
        exchange.response = Some(state);
        let snapshot = snapshot.clone();
        tokio::spawn(async move {
            // Resolves when the response body is dropped: fully sent or abandoned.
            let _ = done.await;
            let chains = match log_chain {
                LogChain::Route(index) => &snapshot.routes[index].chains,
                LogChain::Global => &snapshot.global,
            };
            run_chain(Stage::Log, chains.at(Stage::Log), &mut exchange).await;
        });
    } else {
        *response.headers_mut() = state.headers;
    }
    response
}
