//! The response-side stages: INTEGRATION RESPONSE (the matched route's chains, after the
//! integration) and METHOD RESPONSE (every answer, the gateway's and plugins' included). The
//! response is lent to the plugins; a plugin that answers replaces it and ends its stage's
//! chain.

use super::answer::Answer;
use super::chain::{ChainOutcome, run_stage};
use super::context::RequestContext;
use super::rescue::rescue;
use crate::exchange::Stage;

/// Runs the response-side `stage` on `answer` (a recorded request goes through it even with
/// no plugin there, so its recording shows the response the stage had).
pub(super) async fn run(request: &mut RequestContext, stage: Stage, answer: Answer) -> Answer {
    if request.chains().at(stage).is_empty() && request.recording.is_none() {
        return answer;
    }
    let Answer {
        response,
        streaming_body,
    } = answer;
    request.exchange.response = Some(response);
    let outcome = run_stage(request, stage).await;
    let lent_back = request.exchange.response.take().unwrap_or_default();
    match outcome {
        ChainOutcome::Continue => Answer {
            response: lent_back,
            streaming_body,
        },
        ChainOutcome::Respond(replacement) => Answer::buffered(replacement),
        ChainOutcome::Failed(error) => rescue(error, request),
    }
}
