//! Recording on the request path: the [`Recorder`] a snapshot holds decides which requests are
//! recorded and writes them; a request's [`Recording`] captures what each stage did.
//!
//! Nothing here runs for a request that is not recorded: the pipeline holds an
//! `Option<Box<Recording>>`, `None` unless [`Recorder::sample`] chose the request.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::line::{CallOutcome, CallRecord, FORMAT, RecordedRequest, StageRecord};
use super::redact::Redaction;
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
    /// recorded whatever `routes`, `sample_ratio` and `max_requests` say.
    armed: Mutex<BTreeMap<String, u64>>,
    /// Whether `armed` holds any (read on every request before taking the lock).
    any_armed: AtomicBool,
    writer: LineWriter,
}

impl Recorder {
    /// Opens (appends to) the file of `settings` and starts its writer thread.
    pub fn open(settings: &RecordSettings) -> std::io::Result<Self> {
        let writer = LineWriter::append_to(
            &settings.path,
            "wasmgate-record",
            crate::metrics::RECORD_DROPPED_TOTAL,
        )?;
        Ok(Recorder {
            redaction: Redaction::new(&settings.redact_headers, &settings.redact_query),
            remaining: AtomicU64::new(settings.max_requests),
            armed: Mutex::default(),
            any_armed: AtomicBool::new(false),
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
        if !self.any_armed.load(Ordering::Relaxed) {
            return false;
        }
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let Some(count) = armed.get_mut(route) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            armed.remove(route);
            self.any_armed.store(!armed.is_empty(), Ordering::Relaxed);
        }
        true
    }

    /// Arms the next `count` requests of `route` (1 to [`MAX_ARMED`], added to those already
    /// armed, at most [`MAX_ARMED`] in all); returns how many are armed now.
    pub fn arm(&self, route: &str, count: u64) -> u64 {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let total = armed.entry(route.to_owned()).or_default();
        *total = (*total + count).min(MAX_ARMED);
        let now = *total;
        self.any_armed.store(true, Ordering::Relaxed);
        now
    }

    /// What the recorder is doing, for `GET /record`: the file, the sampling budget left, the
    /// requests armed by route.
    pub fn status(&self) -> serde_json::Value {
        let armed = self.armed.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
                self.writer.send(line);
                metrics::counter!(crate::metrics::REQUESTS_RECORDED_TOTAL).increment(1);
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
}

impl Recording {
    /// Starts recording into `line` (its `stages` empty).
    pub fn new(line: RecordedRequest) -> Self {
        Recording {
            line,
            last: Value::Null,
        }
    }

    /// What was recorded so far.
    pub fn line(&self) -> &RecordedRequest {
        &self.line
    }

    /// What was recorded.
    pub fn into_line(self) -> RecordedRequest {
        self.line
    }

    /// A stage begins on `exchange`.
    pub fn begin_stage(&mut self, stage: Stage, exchange: &Exchange) {
        let view = self.capture(exchange);
        let now = to_json(&view);
        let (entry, entry_changes) = match self.line.stages.is_empty() {
            true => (Some(view), None),
            false => (None, Some(json_patch::diff(&self.last, &now))),
        };
        self.last = now;
        self.line.stages.push(StageRecord {
            stage: stage.name().to_owned(),
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
                let view = ResponseView::capture(response, &self.line.redaction, max);
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

    fn capture(&self, exchange: &Exchange) -> ExchangeView {
        ExchangeView::capture(exchange, &self.line.redaction, self.line.max_body_bytes)
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
