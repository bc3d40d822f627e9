//! `wasmgate replay FILE -c CONFIG [--plugin NAME]`: the requests of a recording run again
//! through the chains of a config, without a listener or a backend, stage by stage.
//!
//! Each recorded stage is replayed on the exchange it began with, as recorded (so a
//! difference in one stage does not spill into the next, and the backend's recorded response
//! stands in for the backend). The replay runs the config's chain for the recorded route at
//! that stage through the pipeline's own chain runner, records what it did the same way, and
//! compares: the sequence of plugin decisions, then the exchange at the end of the stage and
//! the response a plugin answered with. With `--plugin NAME`, only that plugin's recorded
//! calls are replayed, each on the exchange as that call found it.
//!
//! The replay's store is a fresh in-memory one (rate limits and `kv` start empty, whatever the
//! config's `[store]`), the clock is today's, and nothing is exported, logged or recorded.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::line::{CallRecord, FORMAT, RecordedRequest, StageRecord};
use super::recorder::Recording;
use super::redact::REDACTED;
use super::view::{ExchangeView, HeaderValues};
use crate::exchange::Stage;
use crate::otel::RequestSpans;
use crate::pipeline::chain::run_plugins;
use crate::plugin::{ConfiguredPlugin, PluginEngine};
use crate::snapshot::{RouteRuntime, Snapshot};

/// Runs every request recorded in `recording` through the chains of the config at `config`
/// (only the calls of the plugin named `plugin`, when given). `Err`: the config did not load,
/// the file could not be read, or `plugin` is not in the config.
pub async fn replay_file(
    config: &Path,
    recording: &Path,
    plugin: Option<&str>,
) -> Result<ReplayReport, String> {
    let snapshot = replay_snapshot(config).await?;
    let only = match plugin {
        None => None,
        Some(name) => Some(snapshot.plugins.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = snapshot.plugins.keys().map(String::as_str).collect();
            format!(
                "no plugin `{name}` in {}: its plugins are {}",
                config.display(),
                known.join(", ")
            )
        })?),
    };
    let text = std::fs::read_to_string(recording)
        .map_err(|e| format!("cannot read {}: {e}", recording.display()))?;
    let mut report = ReplayReport {
        plugin: plugin.map(str::to_owned),
        ..ReplayReport::default()
    };
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let recorded: RecordedRequest = match serde_json::from_str(line) {
            Ok(recorded) => recorded,
            Err(e) => {
                let problem = format!("not a recorded request: {e}");
                report
                    .requests
                    .push(RequestReport::unreadable(number, problem));
                continue;
            }
        };
        let mut request = RequestReport::of(number, &recorded);
        if recorded.format != FORMAT {
            request.problem = Some(format!(
                "recorded in format {}; this wasmgate reads format {FORMAT}",
                recorded.format
            ));
        } else {
            let replay = Replay {
                snapshot: &snapshot,
                recorded: &recorded,
                only: only.as_ref(),
                timings: &mut report.timings,
            };
            match replay.run().await {
                Ok(differences) => request.differences = differences,
                Err(problem) => request.problem = Some(problem),
            }
        }
        report.requests.push(request);
    }
    Ok(report)
}

/// The config's snapshot as replay runs it: a fresh in-memory store, and no access log, span
/// export or recording.
async fn replay_snapshot(path: &Path) -> Result<Snapshot, String> {
    let mut config = crate::config::load(path).map_err(|e| e.to_string())?;
    config.store = Default::default();
    config.access_log.enabled = false;
    config.tracing = Default::default();
    config.record = None;
    let engine = PluginEngine::new(&config.engine).map_err(|e| e.to_string())?;
    Snapshot::build(config, &engine, 1)
        .await
        .map_err(|e| e.to_string())
}

/// One recorded request being replayed.
struct Replay<'a> {
    snapshot: &'a Snapshot,
    recorded: &'a RecordedRequest,
    only: Option<&'a Arc<ConfiguredPlugin>>,
    timings: &'a mut BTreeMap<String, Timing>,
}

impl Replay<'_> {
    async fn run(mut self) -> Result<Vec<Difference>, String> {
        let route_id = &self.recorded.route;
        let route = self.snapshot.routes.iter().find(|r| r.id == *route_id);
        let route = route.ok_or_else(|| format!("this config has no route `{route_id}`"))?;
        let mut differences = Vec::new();
        let mut previous_end = Value::Null;
        for recorded in &self.recorded.stages {
            let stage = Stage::ALL
                .into_iter()
                .find(|s| s.name() == recorded.stage)
                .ok_or_else(|| format!("unknown stage `{}`", recorded.stage))?;
            let entry = entry_of(recorded, &previous_end)?;
            differences.extend(self.stage(route, stage, recorded, &entry).await?);
            previous_end = stage_end(&entry, &recorded.calls)?.0;
        }
        Ok(differences)
    }

    /// Replays one recorded stage that began with `entry`.
    async fn stage(
        &mut self,
        route: &RouteRuntime,
        stage: Stage,
        recorded: &StageRecord,
        entry: &Value,
    ) -> Result<Vec<Difference>, String> {
        let Some(plugin) = self.only else {
            let replayed = self.calls(stage, route.chains.at(stage), entry).await?;
            self.time(Side::Recorded, &recorded.calls);
            self.time(Side::Replayed, &replayed);
            return compare(stage, entry, &recorded.calls, &replayed);
        };
        // Only the one plugin: each of its calls, on the exchange as that call found it.
        let mut differences = Vec::new();
        let mut state = entry.clone();
        for call in &recorded.calls {
            if call.plugin == plugin.name() {
                let chain: &[Arc<ConfiguredPlugin>] = match plugin.runs_at(stage) {
                    true => std::slice::from_ref(plugin),
                    false => &[],
                };
                let replayed = self.calls(stage, chain, &state).await?;
                self.time(Side::Recorded, std::slice::from_ref(call));
                self.time(Side::Replayed, &replayed);
                differences.extend(compare(
                    stage,
                    &state,
                    std::slice::from_ref(call),
                    &replayed,
                )?);
            }
            apply(&mut state, &call.changes)?;
        }
        Ok(differences)
    }

    /// Runs `plugins` at `stage` on the exchange `entry` shows; what each call did.
    async fn calls(
        &mut self,
        stage: Stage,
        plugins: &[Arc<ConfiguredPlugin>],
        entry: &Value,
    ) -> Result<Vec<CallRecord>, String> {
        let view: ExchangeView = serde_json::from_value(entry.clone())
            .map_err(|e| format!("the recorded {stage} exchange is not valid: {e}"))?;
        let mut exchange = Box::new(view.to_exchange()?);
        let mut recording = Recording::new(RecordedRequest {
            stages: Vec::new(),
            ..self.recorded.clone_head()
        });
        recording.begin_stage(stage, &exchange);
        let mut spans = RequestSpans::default();
        run_plugins(
            stage,
            plugins,
            &mut exchange,
            &mut spans,
            Some(&mut recording),
        )
        .await;
        let calls = recording.into_line().stages.pop().map(|s| s.calls);
        Ok(calls.unwrap_or_default())
    }

    /// Counts the times of `calls` on `side`.
    fn time(&mut self, side: Side, calls: &[CallRecord]) {
        for call in calls {
            let timing = self.timings.entry(call.plugin.clone()).or_default();
            timing.add(side, call.micros);
        }
    }
}

/// The exchange a recorded stage began with.
fn entry_of(recorded: &StageRecord, previous_end: &Value) -> Result<Value, String> {
    match (&recorded.entry, &recorded.entry_changes) {
        (Some(entry), _) => serde_json::to_value(entry).map_err(|e| e.to_string()),
        (None, Some(changes)) => {
            let mut entry = previous_end.clone();
            apply(&mut entry, changes)?;
            Ok(entry)
        }
        (None, None) => Err(format!("the {} stage has no entry", recorded.stage)),
    }
}

fn apply(state: &mut Value, changes: &json_patch::Patch) -> Result<(), String> {
    json_patch::patch(state, changes).map_err(|e| format!("a recorded change does not apply: {e}"))
}

/// The exchange after `calls` (from `entry`), and the response the last answering call gave.
fn stage_end(entry: &Value, calls: &[CallRecord]) -> Result<(Value, Value), String> {
    let mut state = entry.clone();
    let mut answer = Value::Null;
    for call in calls {
        apply(&mut state, &call.changes)?;
        if let Some(response) = &call.response {
            answer = serde_json::to_value(response).map_err(|e| e.to_string())?;
        }
    }
    Ok((state, answer))
}

/// Where the replayed calls of a stage differ from the recorded ones: the decisions, then
/// every place of the end state and of the answer.
fn compare(
    stage: Stage,
    entry: &Value,
    recorded: &[CallRecord],
    replayed: &[CallRecord],
) -> Result<Vec<Difference>, String> {
    let mut differences = Vec::new();
    let summary = |calls: &[CallRecord]| match calls.is_empty() {
        true => "(no plugin)".to_owned(),
        false => calls
            .iter()
            .map(CallRecord::summary)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let (recorded_calls, replayed_calls) = (summary(recorded), summary(replayed));
    if recorded_calls != replayed_calls {
        differences.push(Difference::new(
            stage,
            "decisions",
            recorded_calls,
            replayed_calls,
        ));
    }
    let result = |calls: &[CallRecord]| -> Result<Value, String> {
        let (state, answer) = stage_end(entry, calls)?;
        Ok(serde_json::json!({ "exchange": state, "answer": answer }))
    };
    let (recorded, replayed) = (result(recorded)?, result(replayed)?);
    for change in json_patch::diff(&recorded, &replayed).0 {
        let place = change.path().to_string();
        let shown = |result: &Value| result.pointer(&place).map_or("(absent)".into(), shown);
        let (was, is) = (shown(&recorded), shown(&replayed));
        differences.push(Difference::new(stage, &place, was, is));
    }
    Ok(differences)
}

/// A JSON value as one line, cut at 300 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

impl RecordedRequest {
    /// Everything but the stages.
    fn clone_head(&self) -> RecordedRequest {
        RecordedRequest {
            format: self.format,
            time: self.time.clone(),
            request_id: self.request_id.clone(),
            route: self.route.clone(),
            config_digest: self.config_digest.clone(),
            redaction: self.redaction.clone(),
            max_body_bytes: self.max_body_bytes,
            stages: Vec::new(),
        }
    }

    /// The request headers the recording redacted (that a plugin reading them saw as
    /// `[redacted]`).
    fn redacted_headers(&self) -> Vec<&str> {
        let entry = self.stages.first().and_then(|s| s.entry.as_ref());
        let headers = entry.map(|e| &e.request.headers).into_iter().flatten();
        let redacted = |values: &HeaderValues| match values {
            HeaderValues::One(value) => value == REDACTED,
            HeaderValues::Many(values) => values.iter().any(|v| v == REDACTED),
        };
        headers
            .filter(|(_, values)| redacted(values))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// What a replay found.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// The plugin replayed alone (`--plugin`), if any.
    pub plugin: Option<String>,
    /// Each line of the file, in order.
    pub requests: Vec<RequestReport>,
    /// Plugin call times, recorded and replayed, by plugin.
    pub timings: BTreeMap<String, Timing>,
}

/// What the replay of one recorded request found.
#[derive(Debug)]
pub struct RequestReport {
    /// The line of the file (from 1).
    pub line: usize,
    /// The recorded request id.
    pub request_id: String,
    /// The route it took.
    pub route: String,
    /// The request headers the recording redacted.
    pub redacted_headers: Vec<String>,
    /// Why it could not be replayed at all.
    pub problem: Option<String>,
    /// Where the replay differs from the recording (empty: reproduced).
    pub differences: Vec<Difference>,
}

/// One place where the replay's outcome differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The stage.
    pub stage: Stage,
    /// `decisions` (the plugins' decisions, in order), or a JSON pointer into the stage's
    /// result: `/exchange/context/auth.principal`, `/answer/status` ….
    pub place: String,
    /// The recorded value (`(absent)` when there was none).
    pub recorded: String,
    /// The replayed value.
    pub replayed: String,
}

impl Difference {
    fn new(stage: Stage, place: &str, recorded: String, replayed: String) -> Self {
        Difference {
            stage,
            place: place.to_owned(),
            recorded,
            replayed,
        }
    }
}

/// Plugin call times of one plugin, in microseconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timing {
    /// Total and count of the recorded calls.
    pub recorded: (u64, u64),
    /// Total and count of the replayed calls.
    pub replayed: (u64, u64),
}

#[derive(Clone, Copy)]
enum Side {
    Recorded,
    Replayed,
}

impl Timing {
    fn add(&mut self, side: Side, micros: u64) {
        let slot = match side {
            Side::Recorded => &mut self.recorded,
            Side::Replayed => &mut self.replayed,
        };
        *slot = (slot.0 + micros, slot.1 + 1);
    }
}

impl RequestReport {
    fn of(line: usize, recorded: &RecordedRequest) -> Self {
        RequestReport {
            line,
            request_id: recorded.request_id.clone(),
            route: recorded.route.clone(),
            redacted_headers: recorded
                .redacted_headers()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            problem: None,
            differences: Vec::new(),
        }
    }

    fn unreadable(line: usize, problem: String) -> Self {
        RequestReport {
            line,
            request_id: String::new(),
            route: String::new(),
            redacted_headers: Vec::new(),
            problem: Some(problem),
            differences: Vec::new(),
        }
    }

    /// Whether the replay reproduced the recorded outcome.
    pub fn reproduced(&self) -> bool {
        self.problem.is_none() && self.differences.is_empty()
    }
}

impl ReplayReport {
    /// Whether every request was replayed and reproduced (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.requests.is_empty() && self.requests.iter().all(RequestReport::reproduced)
    }

    /// (reproduced, differing, not replayed).
    pub fn counts(&self) -> (usize, usize, usize) {
        let broken = self.requests.iter().filter(|r| r.problem.is_some()).count();
        let reproduced = self.requests.iter().filter(|r| r.reproduced()).count();
        (
            reproduced,
            self.requests.len() - reproduced - broken,
            broken,
        )
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for request in &self.requests {
            let head = format!(
                "line {}: {} ({})",
                request.line, request.request_id, request.route
            );
            if let Some(problem) = &request.problem {
                writeln!(f, "{head}: NOT REPLAYED: {problem}")?;
                continue;
            }
            if request.differences.is_empty() {
                writeln!(f, "{head}: reproduced")?;
                continue;
            }
            writeln!(f, "{head}: DIFFERS")?;
            for d in &request.differences {
                writeln!(f, "    {} {}:", d.stage, d.place)?;
                writeln!(f, "        recorded: {}", d.recorded)?;
                writeln!(f, "        replayed: {}", d.replayed)?;
            }
            if !request.redacted_headers.is_empty() {
                let names = request.redacted_headers.join(", ");
                writeln!(
                    f,
                    "    (recorded with {names} redacted: plugins saw \"{REDACTED}\")"
                )?;
            }
        }
        if !self.timings.is_empty() {
            writeln!(f, "plugin calls, mean µs: recorded → replayed")?;
            let mean = |(total, n): (u64, u64)| match n {
                0 => "-".to_owned(),
                n => (total / n).to_string(),
            };
            for (plugin, t) in &self.timings {
                let (was, is) = (mean(t.recorded), mean(t.replayed));
                writeln!(f, "  {plugin}: {was} → {is}")?;
            }
        }
        let (reproduced, differing, broken) = self.counts();
        let only = self
            .plugin
            .as_ref()
            .map(|p| format!(" (plugin {p} only)"))
            .unwrap_or_default();
        write!(
            f,
            "{} request(s) replayed{only}: {reproduced} reproduced, {differing} differ",
            self.requests.len()
        )?;
        if broken > 0 {
            write!(f, ", {broken} not replayed")?;
        }
        Ok(())
    }
}
