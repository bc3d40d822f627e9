//! The request lifecycle, one file per phase:
//!
//! ```text
//! admit ─► route ─► request_side (METHOD REQUEST, INTEGRATION REQUEST chains)
//!       ─► integrate (http upstream | mock) ─► responses (INTEGRATION RESPONSE chain)
//!       ─► responses (METHOD RESPONSE chain) ─► finish (sent; access log, LOG chain, spans)
//! ```
//!
//! A request carries one [`context::RequestContext`]: the snapshot it loaded, kept to the end,
//! the matched route, and the exchange plugins see.
//!
//! A request-side plugin that answers (`respond`) skips the stages up to the integration
//! response: its answer goes through the METHOD RESPONSE chain like any other. A response-side
//! plugin that answers replaces the response and ends its own stage's chain. Errors the gateway
//! produces (no route, plugin failure, saturation, upstream failure) become responses in one
//! place, [`rescue`], and they too go through the METHOD RESPONSE and LOG chains (of the global
//! chain when no route matched).

mod admit;
mod answer;
pub(crate) mod chain;
mod context;
mod finish;
mod integrate;
mod request_side;
mod rescue;
mod responses;
mod route;

use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

pub use context::ClientConnection;

use self::answer::Answer;
use self::chain::ChainOutcome;
use self::context::RequestContext;
use self::rescue::rescue;
use self::route::Routed;
use crate::body::NotifyWhenDone;
use crate::exchange::Stage;
use crate::gateway_response::GatewayError;
use crate::snapshot::Snapshot;

/// Serves one request on `snapshot`, which the caller loaded once for this request.
pub async fn handle(
    snapshot: Arc<Snapshot>,
    request: Request<Incoming>,
    connection: &ClientConnection,
) -> Response<NotifyWhenDone> {
    let (parts, body) = request.into_parts();
    let (mut request, admitted) = admit::admit(snapshot, parts, connection);
    let routed = match admitted {
        Ok(()) => {
            let (routed, deployment) = route::route(&request);
            request.deployment = deployment;
            routed
        }
        Err(over_limit) => Routed::Refused(over_limit),
    };
    let answer = match routed {
        Routed::Found(found) => {
            route::enter(&mut request, found);
            match route::throttle(&request) {
                Ok(()) => serve_route(&mut request, body).await,
                Err(throttled) => rescue(throttled, &mut request),
            }
        }
        Routed::Preflight { target, allow } => preflight(&mut request, target, allow).await,
        Routed::Refused(error) => rescue(error, &mut request),
    };
    let answer = responses::run(&mut request, Stage::MethodResponse, answer).await;
    finish::finish(request, answer)
}

/// A matched route: the request side, the integration, the integration-response stage.
async fn serve_route(request: &mut RequestContext, body: Incoming) -> Answer {
    let answer = match request_side::run(request, body).await {
        Ok(unbuffered) => integrate::run(request, unbuffered).await,
        Err(answered) => return answered,
    };
    responses::run(request, Stage::IntegrationResponse, answer).await
}

/// A CORS preflight: the method-request chain of the route it asks about may answer it; when
/// none does, the gateway answers 405 (on the global chain, as for any other method).
async fn preflight(
    request: &mut RequestContext,
    target: crate::routing::Matched,
    allow: Vec<http::Method>,
) -> Answer {
    route::enter_preflight(request, target);
    match chain::run_stage(request, Stage::MethodRequest).await {
        ChainOutcome::Respond(response) => Answer::buffered(response),
        ChainOutcome::Failed(error) => rescue(error, request),
        ChainOutcome::Continue => {
            request.route = None;
            let exchange = &request.exchange.request;
            let error = GatewayError::MethodNotAllowed {
                method: exchange.method.clone(),
                path: exchange.path.clone(),
                allow,
            };
            rescue(error, request)
        }
    }
}
