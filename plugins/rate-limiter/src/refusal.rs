//! Why a request is refused, and the one function that turns it into a response.

use std::time::Duration;

use wasmgate_plugin_sdk::{Action, Context, ResponseData, StoreError, log};

use wasmgate_plugin_sdk::errors::gateway::{PLUGIN_FAILURE, SERVICE_UNAVAILABLE};
use wasmgate_plugin_sdk::errors::plugins::THROTTLED;
use wasmgate_plugin_sdk::rate_limit::whole_seconds_up;

use crate::state::LimitState;

/// Why a request does not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The bucket is empty: retry after this long.
    Throttled {
        /// The limit's state, sent as `RateLimit-*` headers.
        state: LimitState,
        /// How long until a request would be allowed.
        retry_after: Duration,
    },
    /// The shared store failed and the gateway is configured to fail closed (`Unavailable`),
    /// or it refused the call (`Invalid`: a bug).
    Store(StoreError),
}

impl Refusal {
    /// The response for this refusal (logging what the operator needs to know).
    pub(crate) fn into_action(self, context: &Context<'_>) -> Action {
        let response = match self {
            Refusal::Throttled { state, retry_after } => {
                let response = ResponseData::error(context, THROTTLED, THROTTLED.message)
                    .header("retry-after", whole_seconds_up(retry_after).to_string());
                state
                    .headers()
                    .into_iter()
                    .fold(response, |response, (name, value)| {
                        response.header(name, value)
                    })
            }
            Refusal::Store(StoreError::Unavailable(reason)) => {
                log::error(
                    "rate-limit store unavailable, refusing the request (fail-closed)",
                    &[("error", &reason)],
                );
                ResponseData::error(context, SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE.message)
            }
            Refusal::Store(StoreError::Invalid(reason)) => {
                log::error("rate-limit store refused the call", &[("error", &reason)]);
                ResponseData::error(context, PLUGIN_FAILURE, PLUGIN_FAILURE.message)
            }
        };
        Action::Respond(response)
    }
}
