//! Recording on the request path: the [`Recorder`] a snapshot holds decides which requests are
//! recorded and writes them; a request's [`Recording`] captures what each stage did.
//!
//! Without `[record]` nothing here runs. With it, every routed request pays
//! [`Recorder::sample`] (a load of the armed routes, the route filter, a random draw, an
//! atomic for the budget); only a chosen request gets a [`Recording`], and only it pays the
//! captures (the pipeline holds an `Option<Box<Recording>>`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use serde_json::Value;

use super::line::{CallOutcome, CallRecord, FORMAT, RecordedRequest, StageRecord};
use super::redact::{Redaction, Redactor};
use super::view::{ExchangeView, ResponseView};
use crate::config::RecordSettings;
use crate::exchange::{Exchange, Stage};
use crate::line_writer::LineWriter;
use crate::plugin::{PluginFailure, StageAction};

/// The most requests of one route the admin API can arm at once.
pub const MAX_ARMED: u64 = 10_000;

/// `[record]` at work: the sampling, the budget, the requests armed through the admin API,
/// the file.
pub struct Recorder {
    settings: RecordSettings,
    redaction: Redaction,
    /// Requests the sampling may still record.
    remaining: AtomicU64,
    /// Requests armed through `POST /record`, by route id: the next ones of the route are
    /// recorded whatever `routes`, `sample_ratio` and `max_requests` say. Read without a lock
    /// on every request; replaced (not edited) when the admin API arms more.
    armed: ArcSwap<BTreeMap<String, Arc<AtomicU64>>>,
    writer: LineWriter,
}

/// Recorded lines waiting for the writer before new ones are dropped (a line holds bodies of
/// up to `max_body_bytes`, several times when plugins rewrite them).
const MAX_QUEUED_BYTES: usize = 64 << 20;

impl Recorder {
    /// Opens (appends to) the file of `settings` and starts its writer thread.
    pub fn open(settings: &RecordSettings) -> std::io::Result<Self> {
        let writer = LineWriter::append_bounded(
            &settings.path,
            "wasmgate-record",
            crate::metrics::RECORD_DROPPED_TOTAL,
            MAX_QUEUED_BYTES,
        )?;
        Ok(Recorder {
            redaction: Redaction::new(&settings.redact_headers, &settings.redact_query),
            remaining: AtomicU64::new(settings.max_requests),
            armed: ArcSwap::default(),
            settings: settings.clone(),
            writer,
        })
    }

    /// The settings it records by.
    pub fn settings(&self) -> &RecordSettings {
        &self.settings
    }

    /// Whether a request entering `route` is recorded: it was armed, or the route is one of
    /// `[record] routes`, the sample draw chose it and the budget allows one more.
    pub fn sample(
        &self,
        route: &str,
        exchange: &Exchange,
        arrived: SystemTime,
        config_digest: &str,
    ) -> Option<Box<Recording>> {
        if !self.take_armed(route) && !self.sampled(route) {
            return None;
        }
        let line = RecordedRequest {
            format: FORMAT,
            time: humantime::format_rfc3339_millis(arrived).to_string(),
            request_id: exchange.request_id().to_owned(),
            route: route.to_owned(),
            config_digest: config_digest.to_owned(),
            redaction: self.redaction.clone(),
            max_body_bytes: self.settings.max_body_bytes,
            stages: Vec::new(),
        };
        Some(Box::new(Recording::new(line)))
    }

    fn sampled(&self, route: &str) -> bool {
        let routes = &self.settings.routes;
        if !routes.is_empty() && !routes.iter().any(|r| r == route) {
            return false;
        }
        let ratio = self.settings.sample_ratio;
        if ratio < 1.0 && fastrand::f64() >= ratio {
            return false;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Whether a request of `route` was armed (one fewer then is).
    fn take_armed(&self, route: &str) -> bool {
        let armed = self.armed.load();
        let Some(count) = armed.get(route) else {
            return false;
        };
        count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Arms the next `count` requests of `route`, added to those already armed, at most
    /// [`MAX_ARMED`] in all; returns how many are armed now. A route's counter, once made, is
    /// kept (requests may be taking from it), so the map only grows by route ids that exist.
    pub fn arm(&self, route: &str, count: u64) -> u64 {
        if !self.armed.load().contains_key(route) {
            self.armed.rcu(|armed| {
                let mut armed = BTreeMap::clone(armed);
                armed.entry(route.to_owned()).or_default();
                armed
            });
        }
        let armed = self.armed.load();
        let counter = &armed[route];
        let add = |n: u64| Some(n.saturating_add(count).min(MAX_ARMED));
        let before = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, add);
        add(before.unwrap_or_default()).unwrap_or_default()
    }

    /// What the recorder is doing, for `GET /record`: the file, the sampling budget left, the
    /// requests armed by route.
    pub fn status(&self) -> serde_json::Value {
        let armed: BTreeMap<String, u64> = self
            .armed
            .load()
            .iter()
            .map(|(route, n)| (route.clone(), n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        serde_json::json!({
            "path": self.settings.path.display().to_string(),
            "routes": self.settings.routes,
            "sample_ratio": self.settings.sample_ratio,
            "remaining": self.remaining.load(Ordering::Relaxed),
            "armed": armed,
        })
    }

    /// Writes a finished recording (never blocks; dropped and counted when the writer is
    /// behind).
    pub fn submit(&self, recording: Box<Recording>) {
        match serde_json::to_string(&recording.line) {
            Ok(mut line) => {
                line.push('\n');
                if self.writer.send(line) {
                    metrics::counter!(crate::metrics::REQUESTS_RECORDED_TOTAL).increment(1);
                }
            }
            Err(error) => tracing::warn!(%error, "a recorded request could not be written"),
        }
    }
}

/// One request being recorded (or replayed: replay records what it ran the same way, and
/// compares the two).
pub struct Recording {
    line: RecordedRequest,
    /// The exchange's view after the last thing captured, as JSON (what changes are from).
    last: Value,
    /// The line's redaction at work, with the secrets seen so far.
    redactor: Redactor,
}

impl Recording {
    /// Starts recording into `line` (its `stages` empty).
    pub fn new(line: RecordedRequest) -> Self {
        Recording {
            redactor: Redactor::new(line.redaction.clone()),
            line,
            last: Value::Null,
        }
    }

    /// What was recorded.
    pub fn into_line(self) -> RecordedRequest {
        self.line
    }

    /// A stage begins on `exchange`; `global_chain`: it runs the global chain (no route took
    /// the request, or a CORS preflight left the route it asked about).
    pub fn begin_stage(&mut self, stage: Stage, exchange: &Exchange, global_chain: bool) {
        let view = self.capture(exchange);
        let now = to_json(&view);
        let (entry, entry_changes) = if self.line.stages.is_empty() {
            (Some(view), None)
        } else {
            (None, Some(json_patch::diff(&self.last, &now)))
        };
        self.last = now;
        self.line.stages.push(StageRecord {
            stage: stage.name().to_owned(),
            global_chain,
            entry,
            entry_changes,
            calls: Vec::new(),
        });
    }

    /// A plugin of the current stage was called: its `result`, how long it `took`, and the
    /// exchange after it.
    pub fn called(
        &mut self,
        plugin: &str,
        result: &Result<StageAction, PluginFailure>,
        took: Duration,
        exchange: &Exchange,
    ) {
        let now = to_json(&self.capture(exchange));
        let changes = json_patch::diff(&self.last, &now);
        self.last = now;
        let (outcome, response, failure) = match result {
            Ok(StageAction::Continue) => (CallOutcome::Continue, None, None),
            Ok(StageAction::Respond(response)) => {
                let max = self.line.max_body_bytes;
                let view = ResponseView::capture(response, &mut self.redactor, max);
                (CallOutcome::Respond, Some(view), None)
            }
            Err(failure) => {
                let failure = format!("{}: {failure}", failure.kind());
                (CallOutcome::Failed, None, Some(failure))
            }
        };
        let call = CallRecord {
            plugin: plugin.to_owned(),
            outcome,
            micros: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            changes,
            response,
            failure,
        };
        if let Some(stage) = self.line.stages.last_mut() {
            stage.calls.push(call);
        }
    }

    fn capture(&mut self, exchange: &Exchange) -> ExchangeView {
        ExchangeView::capture(exchange, &mut self.redactor, self.line.max_body_bytes)
    }
}

fn to_json(view: &ExchangeView) -> Value {
    serde_json::to_value(view).expect("a view is plain JSON")
}

/// The recorder `settings` ask for: `previous`'s when its settings are the same (so a reload
/// that leaves `[record]` alone keeps counting towards `max_requests`).
pub fn open_recorder(
    settings: Option<&RecordSettings>,
    previous: Option<&Arc<Recorder>>,
) -> std::io::Result<Option<Arc<Recorder>>> {
    let Some(settings) = settings else {
        return Ok(None);
    };
    if let Some(previous) = previous.filter(|p| p.settings() == settings) {
        return Ok(Some(previous.clone()));
    }
    Recorder::open(settings).map(|r| Some(Arc::new(r)))
}
