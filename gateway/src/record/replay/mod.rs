//! `wasmgate replay FILE -c CONFIG [--plugin NAME]`: the requests of a recording run again
//! through the chains of a config, without a listener or a backend, stage by stage.
//!
//! Each recorded stage is replayed on the exchange it began with, as recorded (so a
//! difference in one stage does not spill into the next, and the backend's recorded response
//! stands in for the backend). The replay runs the config's chain for the recorded route (or
//! the global chain, where the request ran that) at that stage through the pipeline's own
//! chain runner, records what it did the same way, and compares: the sequence of plugin
//! decisions, then the exchange at the end of the stage and the response a plugin answered
//! with. With `--plugin NAME`, only that plugin's recorded calls are replayed, each on the
//! exchange as that call found it.
//!
//! The replay's store is a fresh in-memory one (rate limits and `kv` start empty, whatever the
//! config's `[store]`), the clock is today's, and nothing is exported, logged or recorded.

pub mod report;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use self::report::Side;
pub use self::report::{Difference, ReplayReport, RequestReport, Timing};
use super::line::{CallRecord, FORMAT, RecordedRequest, StageRecord};
use super::recorder::Recording;
use super::view::ExchangeView;
use crate::exchange::Stage;
use crate::otel::RequestSpans;
use crate::pipeline::chain::run_plugins;
use crate::plugin::{ConfiguredPlugin, PluginEngine};
use crate::snapshot::{Chains, Snapshot};

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
    let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", recording.display());
    let file = std::fs::File::open(recording).map_err(cannot_read)?;
    let mut report = ReplayReport {
        plugin: plugin.map(str::to_owned),
        ..ReplayReport::default()
    };
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(cannot_read)?;
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let recorded: RecordedRequest = match serde_json::from_str(&line) {
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
        if recorded.format == FORMAT {
            let replay = Replay {
                snapshot: &snapshot,
                recorded: &recorded,
                only: only.as_ref(),
                timings: &mut report.timings,
                request: &mut request,
            };
            if let Err(problem) = replay.run().await {
                request.problem = Some(problem);
            }
        } else {
            request.problem = Some(format!(
                "recorded in format {}; this wasmgate reads format {FORMAT}",
                recorded.format
            ));
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
    request: &'a mut RequestReport,
}

impl Replay<'_> {
    /// Replays every stage; a stage that cannot run (a body left out of the recording, a
    /// value that is not valid HTTP) is reported and the next one still runs. `Err`: the
    /// request cannot be replayed at all.
    async fn run(mut self) -> Result<(), String> {
        let route_id = &self.recorded.route;
        let route = self.snapshot.routes.iter().find(|r| r.id == *route_id);
        let route = route.ok_or_else(|| format!("this config has no route `{route_id}`"))?;
        let mut previous_end = Value::Null;
        for recorded in &self.recorded.stages {
            let stage = Stage::ALL
                .into_iter()
                .find(|s| s.name() == recorded.stage)
                .ok_or_else(|| format!("unknown stage `{}`", recorded.stage))?;
            let entry = entry_of(recorded, &previous_end)?;
            let chains = if recorded.global_chain {
                self.snapshot.global(0)
            } else {
                &route.chains
            };
            if let Err(problem) = self.stage(chains, stage, recorded, &entry).await {
                self.request.skipped.push(format!("{stage}: {problem}"));
            }
            previous_end = stage_end(&entry, &recorded.calls)?.0;
        }
        Ok(())
    }

    /// Replays one recorded stage that began with `entry`.
    async fn stage(
        &mut self,
        chains: &Chains,
        stage: Stage,
        recorded: &StageRecord,
        entry: &Value,
    ) -> Result<(), String> {
        let Some(plugin) = self.only else {
            let replayed = self.calls(stage, chains.at(stage), entry).await?;
            self.compare(stage, entry, &recorded.calls, &replayed)?;
            return Ok(());
        };
        // Only the one plugin: each of its calls, on the exchange as that call found it.
        let mut state = entry.clone();
        for call in &recorded.calls {
            if call.plugin == plugin.name() {
                let chain: &[Arc<ConfiguredPlugin>] = if plugin.runs_at(stage) {
                    std::slice::from_ref(plugin)
                } else {
                    &[]
                };
                let replayed = self.calls(stage, chain, &state).await?;
                self.compare(stage, &state, std::slice::from_ref(call), &replayed)?;
            }
            apply(&mut state, &call.changes)?;
        }
        Ok(())
    }

    /// Runs `plugins` at `stage` on the exchange `entry` shows; what each call did.
    async fn calls(
        &mut self,
        stage: Stage,
        plugins: &[Arc<ConfiguredPlugin>],
        entry: &Value,
    ) -> Result<Vec<CallRecord>, String> {
        let view: ExchangeView = serde_json::from_value(entry.clone())
            .map_err(|e| format!("the recorded exchange is not valid: {e}"))?;
        let mut exchange = Box::new(view.to_exchange()?);
        let mut recording = Recording::new(self.recorded.head());
        recording.begin_stage(stage, &exchange, false);
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

    /// Notes where the `replayed` calls of a stage differ from the `recorded` ones: the
    /// decisions, then every place of the end state and of the answer; and their times.
    fn compare(
        &mut self,
        stage: Stage,
        entry: &Value,
        recorded: &[CallRecord],
        replayed: &[CallRecord],
    ) -> Result<(), String> {
        for (side, calls) in [(Side::Recorded, recorded), (Side::Replayed, replayed)] {
            for call in calls {
                let timing = self.timings.entry(call.plugin.clone()).or_default();
                timing.add(side, call.micros);
            }
        }
        self.request.calls_replayed += recorded.len();
        let differences = &mut self.request.differences;
        let (recorded_calls, replayed_calls) = (decisions(recorded), decisions(replayed));
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
        Ok(())
    }
}

/// `auth: continue, cors: respond 204`.
fn decisions(calls: &[CallRecord]) -> String {
    if calls.is_empty() {
        return "(no plugin)".to_owned();
    }
    let decisions: Vec<String> = calls.iter().map(CallRecord::summary).collect();
    decisions.join(", ")
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

/// A JSON value as one line, cut at 300 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
