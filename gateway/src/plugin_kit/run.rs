//! Runs fixture files against a compiled component in the real plugin host: each file
//! configures the plugin once (its config and grants, a fresh in-memory store), then calls
//! one stage per case, in order, and checks the outcome.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use super::check::{check_context, check_request, check_response};
use super::diff::Mismatch;
use super::fixtures::{self, Case, FixtureFile, HeaderValues, Outcome};
use super::report::{CaseReport, FileReport, FixtureReport};
use crate::config::{Capability, EngineSettings, FailurePolicy, InstanceMode, Origin, PluginDef};
use crate::exchange::{ContextBag, Exchange, ResponseState, Stage};
use crate::plugin::{CompiledPlugin, ConfiguredPlugin, Documents, PluginEngine, StageAction};
use crate::store::SharedStore;

/// The `gateway.request-id` every case's context holds (unless the case sets its own), e.g.
/// in the `requestId` of a JSON error body.
pub const REQUEST_ID: &str = "fixture-request";
/// The `gateway.route-id` every case's context holds (unless the case sets its own).
pub const ROUTE_ID: &str = "fixture-route";
/// The `gateway.client-ip` every case's context holds (unless the case sets its own).
pub const CLIENT_IP: &str = "127.0.0.1";

/// An engine sized for running fixtures, caching compiled components in `cache_dir` when
/// given (tests share one, so each component compiles once across runs).
pub fn fixture_engine(cache_dir: Option<&Path>) -> Result<Arc<PluginEngine>, String> {
    PluginEngine::new(&EngineSettings {
        cache_dir: cache_dir.map(Path::to_path_buf),
        max_instances: 16,
        max_memory_bytes: 256 << 20,
    })
    .map_err(|e| e.to_string())
}

/// Runs every `*.toml` file of `fixtures_dir` (in name order) against the component `wasm`.
pub async fn run_fixture_dir(
    engine: &Arc<PluginEngine>,
    wasm: &Path,
    fixtures_dir: &Path,
) -> Result<FixtureReport, String> {
    let compiled = engine.compile(wasm).map_err(|e| e.to_string())?;
    let entries = std::fs::read_dir(fixtures_dir)
        .map_err(|e| format!("cannot read {}: {e}", fixtures_dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut report = FixtureReport::default();
    for path in paths {
        report
            .files
            .push(run_fixture_file(&compiled, wasm, &path).await);
    }
    Ok(report)
}

/// Runs one fixture file against `compiled` (loaded from `wasm`).
pub async fn run_fixture_file(
    compiled: &Arc<CompiledPlugin>,
    wasm: &Path,
    path: &Path,
) -> FileReport {
    let mut report = FileReport {
        path: path.to_path_buf(),
        error: None,
        cases: Vec::new(),
    };
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read it: {e}"))
        .and_then(|text| fixtures::parse(&text));
    let file = match parsed {
        Ok(file) => file,
        Err(error) => {
            report.error = Some(error);
            return report;
        }
    };
    let plugin = match (
        configure(compiled, wasm, path, &file).await,
        &file.init_error,
    ) {
        (Ok(_), Some(expected)) => {
            report.error = Some(format!(
                "the config was accepted, but the fixture expects it refused with \"{expected}\""
            ));
            return report;
        }
        (Err(error), Some(expected)) if error.contains(expected.as_str()) => return report,
        (Err(error), Some(expected)) => {
            report.error = Some(format!(
                "the config was refused, but not with \"{expected}\":\n{error}"
            ));
            return report;
        }
        (Err(error), None) => {
            report.error = Some(format!("the plugin did not load: {error}"));
            return report;
        }
        (Ok(plugin), None) => plugin,
    };
    for case in &file.cases {
        let mismatches = run_case(&plugin, case).await;
        report.cases.push(CaseReport {
            name: case.name.clone(),
            stage: case.stage.clone(),
            mismatches,
        });
    }
    report
}

/// Configures the plugin as the gateway would for `file`'s config and grants.
async fn configure(
    compiled: &Arc<CompiledPlugin>,
    wasm: &Path,
    path: &Path,
    file: &FixtureFile,
) -> Result<ConfiguredPlugin, String> {
    let grants: BTreeSet<Capability> = super::scaffold::capabilities(&file.grants)
        .map_err(|e| format!("grants: {e}"))?
        .into_iter()
        .collect();
    let origin = |key: &str| Origin {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        key: key.to_owned(),
    };
    let config = file.config.clone().unwrap_or_default();
    let def = PluginDef {
        name: "fixture".to_owned(),
        path: wasm.to_path_buf(),
        config: fixtures::to_json(&toml::Value::Table(config)),
        failure_policy: FailurePolicy::Closed,
        instance_mode: InstanceMode::Pooled,
        // Generous: a fixture checks behaviour, and must not fail on a loaded machine.
        deadline: Duration::from_secs(10),
        queue_timeout: Duration::from_secs(10),
        memory_limit_bytes: 64 << 20,
        max_instances: 1,
        grants,
        grants_origin: origin("grants"),
        documents: Default::default(),
        path_origin: origin("path"),
        config_origin: origin("config"),
    };
    let store = SharedStore::open(&Default::default())?;
    ConfiguredPlugin::configure(
        &def,
        compiled.clone(),
        Arc::new(store),
        Documents::default(),
    )
    .await
    .map_err(|e| e.to_string())
}

/// Calls the case's stage and compares what happened with what it expects.
async fn run_case(plugin: &ConfiguredPlugin, case: &Case) -> Vec<Mismatch> {
    let stage = match Stage::ALL.into_iter().find(|s| s.name() == case.stage) {
        Some(stage) => stage,
        None => {
            let known: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
            return vec![Mismatch::new("stage", known.join(" | "), &case.stage)];
        }
    };
    if !plugin.runs_at(stage) {
        let declared: Vec<&str> = Stage::ALL
            .into_iter()
            .filter(|s| plugin.runs_at(*s))
            .map(Stage::name)
            .collect();
        let declared = format!("a plugin declaring [{}]", declared.join(", "));
        return vec![Mismatch::new(
            "stage",
            format!("a plugin running at {stage}"),
            declared,
        )];
    }
    let mut exchange = match exchange(case, stage) {
        Ok(exchange) => Box::new(exchange),
        Err(problem) => return vec![Mismatch::new("the case itself", "a valid case", problem)],
    };
    let call = plugin.call(stage, &mut exchange).await;
    let expect = &case.expect;
    let mut mismatches = Vec::new();
    let (outcome, response) = match call.result {
        Ok(StageAction::Continue) => (Outcome::Continue, exchange.response.clone()),
        Ok(StageAction::Respond(response)) => (Outcome::Respond, Some(response)),
        Err(failure) => {
            let actual = format!("the plugin failed: {failure}");
            return vec![Mismatch::new("outcome", expect.outcome.as_str(), actual)];
        }
    };
    if outcome != expect.outcome {
        let actual = match (&response, outcome) {
            (Some(r), Outcome::Respond) => format!("respond ({})", r.status.as_u16()),
            _ => outcome.as_str().to_owned(),
        };
        mismatches.push(Mismatch::new("outcome", expect.outcome.as_str(), actual));
    }
    check_response(expect, response.as_ref(), &mut mismatches);
    check_context(expect, &exchange.context, &mut mismatches);
    if let Some(wanted) = &expect.request {
        check_request(wanted, &exchange, &mut mismatches);
    }
    mismatches
}

/// The exchange a case describes, with the gateway's own context entries.
fn exchange(case: &Case, stage: Stage) -> Result<Exchange, String> {
    let spec = &case.request;
    let mut exchange = Exchange::default();
    let request = &mut exchange.request;
    request.method = Method::from_bytes(spec.method.as_bytes())
        .map_err(|_| format!("invalid method {:?}", spec.method))?;
    request.path = spec.path.clone();
    request.query = spec.query.clone();
    request.headers = header_map(&spec.headers)?;
    request.path_params = spec.path_params.clone().into_iter().collect();
    request.body = Some(body(
        spec.body.as_deref(),
        spec.body_json.as_ref(),
        "request",
    )?);
    let context = &mut exchange.context;
    context.insert(ContextBag::REQUEST_ID, REQUEST_ID);
    context.insert(ContextBag::ROUTE_ID, ROUTE_ID);
    context.insert(ContextBag::CLIENT_IP, CLIENT_IP);
    for (key, value) in &spec.context {
        context.insert(key.as_str(), value.as_str());
    }
    let response_side = !matches!(stage, Stage::MethodRequest | Stage::IntegrationRequest);
    match (&case.response, response_side) {
        (Some(_), false) => {
            return Err(format!(
                "a {stage} case has no response: remove [case.response]"
            ));
        }
        (None, false) => {}
        (spec, true) => {
            let mut response = ResponseState {
                status: StatusCode::OK,
                ..ResponseState::default()
            };
            if let Some(spec) = spec {
                response.status = StatusCode::from_u16(spec.status)
                    .map_err(|_| format!("invalid response status {}", spec.status))?;
                response.headers = header_map(&spec.headers)?;
                response.body = Some(body(
                    spec.body.as_deref(),
                    spec.body_json.as_ref(),
                    "response",
                )?);
            } else {
                response.body = Some(Bytes::new());
            }
            exchange.response = Some(response);
        }
    }
    Ok(exchange)
}

fn header_map(
    headers: &std::collections::BTreeMap<String, HeaderValues>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, values) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        for value in values.values() {
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value {value:?} of header {name}"))?;
            map.append(name.clone(), value);
        }
    }
    Ok(map)
}

fn body(text: Option<&str>, json: Option<&toml::Value>, what: &str) -> Result<Bytes, String> {
    match (text, json) {
        (Some(_), Some(_)) => Err(format!(
            "the {what} has both `body` and `body_json`: keep one"
        )),
        (Some(text), None) => Ok(Bytes::copy_from_slice(text.as_bytes())),
        (None, Some(json)) => Ok(fixtures::to_json(json).to_string().into()),
        (None, None) => Ok(Bytes::new()),
    }
}
