//! Phase 2, route: the route is looked up once, and the request enters it (route id, API
//! version, path parameters, the path to send on) — or the gateway refuses it (404, 405).
//!
//! A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) on a path with no
//! `OPTIONS` route is offered to the method-request chain of the route the browser asks about,
//! so a CORS plugin there can answer it; the integration is never called for a preflight.

use http::{HeaderValue, Method};

use super::context::RequestContext;
use crate::exchange::ContextBag;
use crate::gateway_response::GatewayError;
use crate::routing::{Matched, RouteMatch};

/// Where routing sends a request.
pub(super) enum Routed {
    /// A route takes it.
    Found(Matched),
    /// A CORS preflight for the route `Matched`; when no plugin answers it, the gateway
    /// answers 405 with `allow`.
    Preflight {
        /// The route the browser asks about.
        target: Matched,
        /// The methods the path has.
        allow: Vec<Method>,
    },
    /// No route takes it.
    Refused(GatewayError),
}

/// Assigns the request to its deployment (see [`crate::stages`]) and looks it up in the
/// snapshot's router; returns the deployment too (0 for a request no stage takes).
pub(super) fn route(request: &RequestContext) -> (Routed, usize) {
    let exchange = &request.exchange.request;
    let snapshot = &request.snapshot;
    let host = request.client.host.as_ref().map(HeaderValue::as_bytes);
    let refused = || {
        Routed::Refused(GatewayError::NoRoute {
            method: exchange.method.clone(),
            path: exchange.path.clone(),
        })
    };
    let (deployment, path) = match &snapshot.stages {
        None => (0, exchange.path.as_str()),
        Some(stages) => {
            let client_ip = request.client.client_ip.as_bytes();
            match stages.assign(host, &exchange.path, &exchange.headers, client_ip) {
                Some(assigned) => (assigned.deployment, assigned.path),
                None => return (refused(), 0),
            }
        }
    };
    let offset = deployment * snapshot.routes_per_deployment;
    let lookup = |method: &Method| {
        let found = snapshot.router.lookup(
            method,
            path,
            host,
            &exchange.headers,
            exchange.query.as_deref(),
        );
        match found {
            RouteMatch::Found(mut found) => {
                found.route += offset;
                RouteMatch::Found(found)
            }
            other => other,
        }
    };
    let routed = match lookup(&exchange.method) {
        RouteMatch::Found(found) => Routed::Found(found),
        RouteMatch::NotFound => refused(),
        RouteMatch::MethodNotAllowed { allow } => {
            let preflight_target = preflight_method(request).map(|method| lookup(&method));
            match preflight_target {
                Some(RouteMatch::Found(target)) => Routed::Preflight { target, allow },
                _ => Routed::Refused(GatewayError::MethodNotAllowed {
                    method: exchange.method.clone(),
                    path: exchange.path.clone(),
                    allow,
                }),
            }
        }
    };
    (routed, deployment)
}

/// The route's throttle in its stage: `Err` (429) when its bucket is empty.
pub(super) fn throttle(request: &RequestContext) -> Result<(), GatewayError> {
    let Some(route) = request.matched_route() else {
        return Ok(());
    };
    let Some(throttle) = &route.throttle else {
        return Ok(());
    };
    throttle
        .admit()
        .map_err(|retry_after| GatewayError::Throttled {
            stage: route.stage.clone(),
            retry_after,
        })
}

/// The method a CORS preflight asks about.
fn preflight_method(request: &RequestContext) -> Option<Method> {
    let exchange = &request.exchange.request;
    if exchange.method != Method::OPTIONS {
        return None;
    }
    let requested = exchange.headers.get("access-control-request-method")?;
    Method::from_bytes(requested.as_bytes()).ok()
}

/// The request enters its route: the route's chains serve it from now on, and plugins see
/// its id, API version, path parameters and the path the backend will get.
pub(super) fn enter(request: &mut RequestContext, found: Matched) {
    let route = &request.snapshot.routes[found.route];
    let exchange = &mut request.exchange;
    exchange
        .context
        .insert(ContextBag::ROUTE_ID, route.id.clone());
    if let Some(stage) = &route.stage {
        exchange
            .context
            .insert(ContextBag::STAGE, stage.to_string());
    }
    if let Some(version) = found.version {
        exchange.context.insert(ContextBag::API_VERSION, version);
    }
    exchange.request.path = found.path;
    exchange.request.path_params = found.params;
    let header = &request.snapshot.config.gateway.request_id_header;
    if let Ok(value) = HeaderValue::from_str(exchange.request_id()) {
        exchange.request.headers.insert(header.clone(), value);
    }
    request.route = Some(found.route);
    start_recording(request);
}

/// A preflight enters the route it asks about, for its method-request chain only.
pub(super) fn enter_preflight(request: &mut RequestContext, target: Matched) {
    let route = &request.snapshot.routes[target.route];
    let exchange = &mut request.exchange;
    exchange
        .context
        .insert(ContextBag::ROUTE_ID, route.id.clone());
    if let Some(stage) = &route.stage {
        exchange
            .context
            .insert(ContextBag::STAGE, stage.to_string());
    }
    exchange.request.path_params = target.params;
    request.route = Some(target.route);
    start_recording(request);
}

/// Starts recording the request when `[record]` chooses it (see [`crate::record`]).
fn start_recording(request: &mut RequestContext) {
    let snapshot = &request.snapshot;
    let (Some(recorder), Some(route)) = (&snapshot.recorder, request.matched_route()) else {
        return;
    };
    request.recording = recorder.sample(
        &route.id,
        &request.exchange,
        request.client.arrived,
        &snapshot.config.source_digest,
    );
}
