//! `stage-probe`: a test-only plugin that records every stage it runs at, so the gateway's
//! end-to-end tests can see which stages were called, in which order, and that the context
//! travelled between them.
//!
//! Config: `{ "stages": ["method-request", "method-response"], "echo_context": ["tls.sni"] }`
//! (kebab-case stage names, at least one; `echo_context` is optional and empty by default).
//! `stages()` declares exactly those. At each declared stage:
//!
//! - request side (method request, integration request): sets request header
//!   `x-probe-<stage>: called` and context key `probe.<stage>` = `called`;
//! - response side (integration response, method response): sets response header
//!   `x-probe-<stage>: called`; at method response it also copies every `probe.*` context key
//!   into response header `x-probe-context-<rest>` (e.g. `x-probe-context-method-request`),
//!   and every `echo_context` key that is set into response header `x-context-<key>`, the key
//!   verbatim (e.g. `x-context-tls.client.subject`), so tests can see what the gateway put in
//!   the context;
//! - log: writes an info line `stage-probe: called` with field `stage` = `log`.
//!
//! At a stage it did **not** declare it panics (`stage-probe: called at undeclared stage X`),
//! which traps the instance: that is how the tests prove the gateway skips undeclared stages.

use serde::Deserialize;
use wasmgate_plugin_sdk::{
    Action, Context, InitError, Plugin, Request, Response, Stage, Stages, log,
};

/// The value every probe header and context key holds.
const CALLED: &str = "called";
/// The prefix of the context keys the probe sets.
const CONTEXT_PREFIX: &str = "probe.";
/// The prefix of the response headers echoing `echo_context` keys.
const ECHO_HEADER_PREFIX: &str = "x-context-";

/// The plugin's config: `{ "stages": ["method-request", "method-response"] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The stages to declare, at least one.
    stages: Vec<Stage>,
    /// Context keys to echo at method response as `x-context-<key>` headers, when set.
    #[serde(default)]
    echo_context: Vec<String>,
}

/// The `stage-probe` plugin.
#[derive(Debug)]
pub struct StageProbe {
    stages: Stages,
    echo_context: Vec<String>,
}

impl StageProbe {
    /// Panics unless `stage` was declared: the gateway must never call it there.
    fn enter(&self, stage: Stage) {
        if !self.stages.has(stage) {
            panic!("stage-probe: called at undeclared stage {stage}");
        }
    }

    fn probe_request(&self, stage: Stage, request: &mut Request<'_>, context: &mut Context<'_>) {
        self.enter(stage);
        request
            .set_header(&format!("x-probe-{stage}"), CALLED)
            .expect("request is editable");
        context
            .set(&format!("{CONTEXT_PREFIX}{stage}"), CALLED)
            .expect("context is editable");
    }
}

impl Plugin for StageProbe {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        if config.stages.is_empty() {
            return Err(InitError::invalid_config(
                "stages",
                "list at least one stage, e.g. [\"method-request\"]",
            ));
        }
        Ok(StageProbe {
            stages: config.stages.into_iter().collect(),
            echo_context: config.echo_context,
        })
    }

    fn stages(&self) -> Stages {
        self.stages
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        self.probe_request(Stage::MethodRequest, request, context);
        Action::Continue
    }

    fn on_integration_request(
        &self,
        request: &mut Request<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        self.probe_request(Stage::IntegrationRequest, request, context);
        Action::Continue
    }

    fn on_integration_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        _: &mut Context<'_>,
    ) -> Action {
        self.enter(Stage::IntegrationResponse);
        response
            .set_header("x-probe-integration-response", CALLED)
            .expect("response is editable");
        Action::Continue
    }

    fn on_method_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        self.enter(Stage::MethodResponse);
        response
            .set_header("x-probe-method-response", CALLED)
            .expect("response is editable");
        for key in context.keys() {
            if let (Some(rest), Some(value)) = (key.strip_prefix(CONTEXT_PREFIX), context.get(&key))
            {
                let name = format!("x-probe-context-{rest}");
                response
                    .set_header(&name, value)
                    .expect("response is editable");
            }
        }
        for key in &self.echo_context {
            if let Some(value) = context.get(key) {
                response
                    .set_header(&format!("{ECHO_HEADER_PREFIX}{key}"), value)
                    .expect("response is editable");
            }
        }
        Action::Continue
    }

    fn on_log(&self, _: &Request<'_>, _: &Response<'_>, _: &Context<'_>) {
        self.enter(Stage::Log);
        log::info("stage-probe: called", &[("stage", Stage::Log.name())]);
    }
}

wasmgate_plugin_sdk::export_plugin!(StageProbe);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::json;
    use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};

    use super::*;

    fn probe(stages: serde_json::Value) -> StageProbe {
        testing::init::<StageProbe>(json!({ "stages": stages })).expect("valid config")
    }

    #[test]
    fn declares_exactly_the_configured_stages() {
        let probe = probe(json!(["method-request", "log"]));
        assert_eq!(probe.stages(), Stages::METHOD_REQUEST | Stages::LOG);
    }

    #[test]
    fn records_every_declared_stage_and_carries_the_context_to_the_response() {
        let probe = probe(json!([
            "method-request",
            "integration-request",
            "integration-response",
            "method-response",
            "log"
        ]));
        let mut request = FakeRequest::new("GET", "/");
        let mut response = FakeResponse::new(200);
        let mut context = FakeContext::new();
        let _ = testing::method_request(&probe, &mut request, &mut context);
        let _ = testing::integration_request(&probe, &mut request, &mut context);
        let _ = testing::integration_response(&probe, &request, &mut response, &mut context);
        let _ = testing::method_response(&probe, &request, &mut response, &mut context);
        testing::log(&probe, &request, &response, &context);

        assert_eq!(request.header_str("x-probe-method-request"), Some("called"));
        assert_eq!(
            request.header_str("x-probe-integration-request"),
            Some("called")
        );
        assert_eq!(context.get("probe.integration-request"), Some("called"));
        assert_eq!(
            response.header_str("x-probe-integration-response"),
            Some("called")
        );
        assert_eq!(
            response.header_str("x-probe-method-response"),
            Some("called")
        );
        assert_eq!(
            response.header_str("x-probe-context-method-request"),
            Some("called")
        );
        assert_eq!(
            response.header_str("x-probe-context-integration-request"),
            Some("called")
        );
        assert_eq!(testing::take_log_lines()[0].field("stage"), Some("log"));
    }

    #[test]
    fn echoes_the_listed_context_keys_that_are_set() {
        let probe = testing::init::<StageProbe>(json!({
            "stages": ["method-response"],
            "echo_context": ["tls.client.subject", "tls.sni"],
        }))
        .expect("valid config");
        let request = FakeRequest::new("GET", "/");
        let mut response = FakeResponse::new(200);
        let mut context = FakeContext::new()
            .with("tls.client.subject", "CN=alice")
            .with("tls.protocol", "TLSv1.3");
        let _ = testing::method_response(&probe, &request, &mut response, &mut context);

        assert_eq!(
            response.header_str("x-context-tls.client.subject"),
            Some("CN=alice")
        );
        assert_eq!(response.header_str("x-context-tls.sni"), None, "not set");
        assert_eq!(
            response.header_str("x-context-tls.protocol"),
            None,
            "not listed"
        );
    }

    #[test]
    fn echoes_nothing_by_default() {
        let probe = probe(json!(["method-response"]));
        let request = FakeRequest::new("GET", "/");
        let mut response = FakeResponse::new(200);
        let mut context = FakeContext::new().with("tls.client.subject", "CN=alice");
        let _ = testing::method_response(&probe, &request, &mut response, &mut context);

        assert!(
            response
                .headers()
                .names()
                .iter()
                .all(|name| !name.starts_with(ECHO_HEADER_PREFIX)),
            "{:?}",
            response.headers().names()
        );
    }

    #[test]
    #[should_panic(expected = "stage-probe: called at undeclared stage integration-request")]
    fn panics_at_an_undeclared_stage() {
        probe(json!(["method-request"])).enter(Stage::IntegrationRequest);
    }

    #[test]
    fn rejects_an_empty_stage_list_and_unknown_stage_names() {
        let err = |config| testing::init::<StageProbe>(config).unwrap_err().to_string();
        assert_eq!(
            err(json!({ "stages": [] })),
            "invalid config: `stages`: list at least one stage, e.g. [\"method-request\"]"
        );
        assert!(
            err(json!({ "stages": ["method_request"] }))
                .starts_with("invalid config: `stages[0]`: unknown variant `method_request`")
        );
        assert_eq!(err(json!({})), "invalid config: missing field `stages`");
    }
}
