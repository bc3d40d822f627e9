//! What a replay found, per recorded request, and how `wasmgate replay` prints it.

use std::collections::BTreeMap;
use std::fmt;

use crate::exchange::Stage;
use crate::record::line::RecordedRequest;
use crate::record::redact::REDACTED;

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
    /// The request's inputs the recording redacted (`header authorization`, `query token`).
    pub redacted_inputs: Vec<String>,
    /// Why it could not be replayed at all.
    pub problem: Option<String>,
    /// The stages that could not be replayed, and why (`method-request: …`).
    pub skipped: Vec<String>,
    /// How many recorded plugin calls were replayed.
    pub calls_replayed: usize,
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
    pub(super) fn new(stage: Stage, place: &str, recorded: String, replayed: String) -> Self {
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

/// Which run a call time comes from.
#[derive(Clone, Copy)]
pub(super) enum Side {
    Recorded,
    Replayed,
}

impl Timing {
    pub(super) fn add(&mut self, side: Side, micros: u64) {
        let slot = match side {
            Side::Recorded => &mut self.recorded,
            Side::Replayed => &mut self.replayed,
        };
        *slot = (slot.0 + micros, slot.1 + 1);
    }
}

/// How the replay of one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every replayed stage ended as recorded.
    Reproduced,
    /// Some stage ended otherwise.
    Differs,
    /// The request, or one of its stages, could not be replayed.
    NotReplayed,
    /// `--plugin`: the request has no recorded call of the plugin.
    NoCall,
}

impl Verdict {
    /// How a report line shows it.
    fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Differs => "DIFFERS",
            Verdict::NotReplayed => "NOT REPLAYED",
            Verdict::NoCall => "no call of the plugin recorded",
        }
    }
}

impl RequestReport {
    pub(super) fn of(line: usize, recorded: &RecordedRequest) -> Self {
        RequestReport {
            line,
            request_id: recorded.request_id.clone(),
            route: recorded.route.clone(),
            redacted_inputs: recorded.redacted_inputs(),
            problem: None,
            skipped: Vec::new(),
            calls_replayed: 0,
            differences: Vec::new(),
        }
    }

    pub(super) fn unreadable(line: usize, problem: String) -> Self {
        let nothing = RecordedRequest::default();
        RequestReport {
            problem: Some(problem),
            ..Self::of(line, &nothing)
        }
    }

    /// How the replay of this request ended.
    pub fn verdict(&self, only_plugin: bool) -> Verdict {
        if self.problem.is_some() || !self.skipped.is_empty() {
            Verdict::NotReplayed
        } else if !self.differences.is_empty() {
            Verdict::Differs
        } else if only_plugin && self.calls_replayed == 0 {
            Verdict::NoCall
        } else {
            Verdict::Reproduced
        }
    }
}

impl ReplayReport {
    /// How many requests ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        let only_plugin = self.plugin.is_some();
        let requests = self.requests.iter();
        requests
            .filter(|r| r.verdict(only_plugin) == verdict)
            .count()
    }

    /// Whether the replay reproduced the recording: at least one request reproduced, none
    /// differs, none could not be replayed (requests without a call of `--plugin` aside).
    pub fn passed(&self) -> bool {
        self.count(Verdict::Reproduced) > 0
            && self.count(Verdict::Differs) == 0
            && self.count(Verdict::NotReplayed) == 0
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let only_plugin = self.plugin.is_some();
        for request in &self.requests {
            write!(
                f,
                "line {}: {} ({}): ",
                request.line, request.request_id, request.route
            )?;
            let verdict = request.verdict(only_plugin);
            writeln!(f, "{}", verdict.label())?;
            if matches!(verdict, Verdict::Differs | Verdict::NotReplayed) {
                request_details(f, request)?;
            }
        }
        if !self.timings.is_empty() {
            writeln!(f, "plugin calls, mean µs: recorded → replayed")?;
            let mean = |(total, n): (u64, u64)| match n {
                0 => "-".to_owned(),
                n => (total / n).to_string(),
            };
            for (plugin, t) in &self.timings {
                writeln!(f, "  {plugin}: {} → {}", mean(t.recorded), mean(t.replayed))?;
            }
        }
        let only = self.plugin.as_ref().map(|p| format!(" (plugin {p} only)"));
        write!(
            f,
            "{} request(s) replayed{}: {} reproduced, {} differ",
            self.requests.len(),
            only.unwrap_or_default(),
            self.count(Verdict::Reproduced),
            self.count(Verdict::Differs)
        )?;
        for (verdict, what) in [
            (Verdict::NotReplayed, "not replayed"),
            (Verdict::NoCall, "without a call of the plugin"),
        ] {
            let count = self.count(verdict);
            if count > 0 {
                write!(f, ", {count} {what}")?;
            }
        }
        Ok(())
    }
}

/// Why a request was not replayed, and where it differs.
fn request_details(f: &mut fmt::Formatter<'_>, request: &RequestReport) -> fmt::Result {
    if let Some(problem) = &request.problem {
        writeln!(f, "    {problem}")?;
    }
    for skipped in &request.skipped {
        writeln!(f, "    stage not replayed: {skipped}")?;
    }
    for d in &request.differences {
        writeln!(f, "    {} {}:", d.stage, d.place)?;
        writeln!(f, "        recorded: {}", d.recorded)?;
        writeln!(f, "        replayed: {}", d.replayed)?;
    }
    if !request.redacted_inputs.is_empty() {
        let inputs = request.redacted_inputs.join(", ");
        writeln!(
            f,
            "    (the recording redacted {inputs}: the replayed plugins saw \"{REDACTED}\")"
        )?;
    }
    Ok(())
}
