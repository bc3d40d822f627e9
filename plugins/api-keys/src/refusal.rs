//! Why a request is refused, and the one function that turns it into a response.

use std::time::Duration;

use wasmgate_plugin_sdk::errors::gateway::{PLUGIN_FAILURE, SERVICE_UNAVAILABLE};
use wasmgate_plugin_sdk::errors::plugins::{INVALID_API_KEY, QUOTA_EXCEEDED, THROTTLED};
use wasmgate_plugin_sdk::rate_limit::whole_seconds_up;
use wasmgate_plugin_sdk::{Action, Context, ResponseData, StoreError, log};

use crate::key_set::KeysError;
use crate::quota::QuotaState;

/// Why a request does not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No key in the request; says where it should be (e.g. `the x-api-key header`).
    MissingKey(String),
    /// A key that is unknown, or known and disabled: one answer, so the two cannot be told
    /// apart.
    InvalidKey,
    /// The key's throttle is empty; retry after this long.
    Throttled(Duration),
    /// The key's quota for the current window is spent.
    QuotaExceeded(QuotaState),
    /// The shared store failed and the gateway is configured to fail closed.
    Store(StoreError),
    /// No keys to check against.
    Keys(KeysError),
}

impl Refusal {
    /// The response for this refusal (logging what the operator needs to know).
    pub(crate) fn into_action(self, context: &Context<'_>) -> Action {
        let error = |kind, message: String| ResponseData::error(context, kind, message);
        let response = match self {
            Refusal::MissingKey(source) => error(
                INVALID_API_KEY,
                format!("Missing API key: send it in {source}"),
            ),
            Refusal::InvalidKey => error(INVALID_API_KEY, INVALID_API_KEY.message.into()),
            Refusal::Throttled(retry_after) => error(THROTTLED, THROTTLED.message.into())
                .header("retry-after", whole_seconds_up(retry_after).to_string()),
            Refusal::QuotaExceeded(quota) => error(QUOTA_EXCEEDED, QUOTA_EXCEEDED.message.into())
                .header("retry-after", quota.reset_secs().to_string()),
            Refusal::Store(StoreError::Unavailable(reason)) => {
                log::error(
                    "rate-limit store unavailable, refusing the request (fail-closed)",
                    &[("error", &reason)],
                );
                error(SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE.message.into())
            }
            Refusal::Keys(KeysError::Unavailable(reason)) => {
                log::error(
                    "API keys document not available yet, refusing the request",
                    &[("error", &reason)],
                );
                error(SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE.message.into())
            }
            Refusal::Store(StoreError::Invalid(reason))
            | Refusal::Keys(KeysError::Invalid(reason)) => {
                log::error("API keys plugin misconfigured", &[("error", &reason)]);
                error(PLUGIN_FAILURE, PLUGIN_FAILURE.message.into())
            }
        };
        Action::Respond(response)
    }
}

#[cfg(test)]
mod tests {
    use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
    use wasmgate_plugin_sdk::{InitError, NoConfig, Plugin, Request, Stages};

    use super::*;

    /// Answers every request with the refusal in the query string.
    struct Refuse;

    impl Plugin for Refuse {
        type Config = NoConfig;
        fn init(_: NoConfig) -> Result<Self, InitError> {
            Ok(Refuse)
        }
        fn stages(&self) -> Stages {
            Stages::METHOD_REQUEST
        }
        fn on_method_request(
            &self,
            request: &mut Request<'_>,
            context: &mut Context<'_>,
        ) -> Action {
            let reason = "detail".to_owned();
            let refusal = match request.query().as_deref() {
                Some("store-invalid") => Refusal::Store(StoreError::Invalid(reason)),
                Some("keys-invalid") => Refusal::Keys(KeysError::Invalid(reason)),
                _ => Refusal::Keys(KeysError::Unavailable(reason)),
            };
            refusal.into_action(context)
        }
    }

    fn answer(query: &str) -> (u16, String) {
        let plugin = testing::init::<Refuse>(serde_json::json!({})).unwrap();
        let mut request = FakeRequest::new("GET", &format!("/?{query}"));
        let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
        let response = action.response().unwrap();
        (response.status, response.body_str().unwrap().to_owned())
    }

    #[test]
    fn config_bugs_are_500s_and_a_document_not_fetched_yet_a_503_all_logged() {
        for query in ["store-invalid", "keys-invalid"] {
            let (status, body) = answer(query);
            assert_eq!(status, 500);
            assert!(body.contains(r#""type":"PLUGIN_FAILURE""#) && !body.contains("detail"));
        }
        let (status, body) = answer("keys-unavailable");
        assert_eq!(status, 503);
        assert!(body.contains(r#""type":"SERVICE_UNAVAILABLE""#));
        let logged = testing::take_log_lines();
        assert_eq!(logged.len(), 3);
        assert!(
            logged
                .iter()
                .all(|line| line.field("error") == Some("detail"))
        );
    }
}
