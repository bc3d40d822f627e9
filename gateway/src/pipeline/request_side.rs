//! Phase 3, the request side of a matched route: the body is buffered when a plugin of the
//! route reads it, then the METHOD REQUEST and INTEGRATION REQUEST chains run. A plugin that
//! answers ends the request side: its answer goes to the METHOD RESPONSE chain.

use std::time::Duration;

use hyper::body::Incoming;

use super::answer::Answer;
use super::chain::{ChainOutcome, run_stage};
use super::context::RequestContext;
use super::rescue::rescue;
use crate::body::{self, BufferError};
use crate::exchange::Stage;
use crate::gateway_response::GatewayError;

/// How long a client may take to send a body the gateway buffers for plugins.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the request side. `Ok` carries the client's body when it was not buffered (it then
/// streams to the backend); `Err` is the answer that ends the request side.
pub(super) async fn run(
    request: &mut RequestContext,
    incoming: Incoming,
) -> Result<Option<Incoming>, Answer> {
    let mut unbuffered = Some(incoming);
    if request.chains().reads_request_body() {
        let incoming = unbuffered.take().expect("body not yet taken");
        match buffer_body(request, incoming).await {
            Ok(bytes) => request.exchange.request.body = Some(bytes),
            Err(error) => return Err(rescue(error, request)),
        }
    }
    for stage in [Stage::MethodRequest, Stage::IntegrationRequest] {
        match run_stage(request, stage).await {
            ChainOutcome::Continue => {}
            ChainOutcome::Respond(response) => return Err(Answer::buffered(response)),
            ChainOutcome::Failed(error) => return Err(rescue(error, request)),
        }
    }
    Ok(unbuffered)
}

/// Reads the whole body, within `max_body_bytes` and [`REQUEST_BODY_TIMEOUT`].
async fn buffer_body(
    request: &RequestContext,
    incoming: Incoming,
) -> Result<bytes::Bytes, GatewayError> {
    let limit = request.snapshot.config.gateway.max_body_bytes;
    let buffered = tokio::time::timeout(REQUEST_BODY_TIMEOUT, body::buffer(incoming, limit));
    match buffered.await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BufferError::TooLarge(limit))) => Err(GatewayError::BodyTooLarge { limit }),
        Ok(Err(BufferError::Read(reason))) => Err(GatewayError::BodyRead(reason)),
        Err(_) => Err(GatewayError::BodyRead(format!(
            "not received within {REQUEST_BODY_TIMEOUT:?}"
        ))),
    }
}
