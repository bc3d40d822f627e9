//! One line of a recording file: a request of a recorded route, with the exchange each stage
//! began with and what each plugin of the stage did to it.
//!
//! ```json
//! {"format":1,"time":"2026-12-06T10:00:00.123Z","request_id":"…","route":"GET /books/{id}",
//!  "config_digest":"…","redaction":{"headers":["authorization",…],"query":[]},
//!  "max_body_bytes":65536,
//!  "stages":[
//!   {"stage":"method-request","entry":{"request":{…},"context":{…}},
//!    "calls":[{"plugin":"auth","outcome":"continue","micros":41,
//!              "changes":[{"op":"add","path":"/context/auth.principal","value":"alice"}]}]},
//!   {"stage":"integration-response","entry_changes":[{"op":"add","path":"/response",…}],
//!    "calls":[…]}]}
//! ```
//!
//! The first stage's `entry` is the whole exchange; a later stage's `entry_changes` patches the
//! previous stage's end (what the gateway did in between: the backend's response, its own
//! headers). A call's `changes` patch the exchange as the call found it (RFC 6902). A call
//! that answered carries the `response` it answered with.

use serde::{Deserialize, Serialize};

use super::redact::{REDACTED, Redaction};
use super::view::{ExchangeView, HeaderValues, ResponseView};

/// The version of this format; a replay refuses lines of another.
pub const FORMAT: u32 = 1;

/// One recorded request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// [`FORMAT`].
    pub format: u32,
    /// When the request arrived (RFC 3339).
    pub time: String,
    /// The request id.
    pub request_id: String,
    /// The id of the route it took.
    pub route: String,
    /// SHA-256 of the config file that served it.
    pub config_digest: String,
    /// What was redacted (replay captures its own views the same way).
    pub redaction: Redaction,
    /// Bodies larger than this were left out.
    pub max_body_bytes: usize,
    /// The stages the request went through, in order.
    pub stages: Vec<StageRecord>,
}

/// What one stage did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage's name (`method-request` …).
    pub stage: String,
    /// Whether the stage ran the global chain rather than the route's (the request left its
    /// route: a CORS preflight no plugin answered).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub global_chain: bool,
    /// The exchange the stage began with (the first stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<ExchangeView>,
    /// The changes to the previous stage's end the stage began with (the later stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_changes: Option<json_patch::Patch>,
    /// Each plugin call, in chain order.
    pub calls: Vec<CallRecord>,
}

/// What one plugin call did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallRecord {
    /// The plugin's name.
    pub plugin: String,
    /// Its decision.
    pub outcome: CallOutcome,
    /// How long the call took, in microseconds (waiting for an instance included).
    pub micros: u64,
    /// Its edits of the exchange.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub changes: json_patch::Patch,
    /// The response it answered with (`respond`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseView>,
    /// Why it failed (`failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A plugin call's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// It let the request go on.
    Continue,
    /// It answered.
    Respond,
    /// It failed (trap, deadline …); its failure policy decided what followed.
    Failed,
}

fn is_empty(patch: &json_patch::Patch) -> bool {
    patch.0.is_empty()
}

impl RecordedRequest {
    /// A copy without the stages.
    pub fn head(&self) -> RecordedRequest {
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

    /// The request headers and query parameters the recording redacted, as
    /// `header authorization`, `query token`.
    pub fn redacted_inputs(&self) -> Vec<String> {
        let entry = self.stages.first().and_then(|s| s.entry.as_ref());
        let Some(request) = entry.map(|e| &e.request) else {
            return Vec::new();
        };
        let redacted = |values: &HeaderValues| match values {
            HeaderValues::One(value) => value == REDACTED,
            HeaderValues::Many(values) => values.iter().any(|v| v == REDACTED),
        };
        let headers = request
            .headers
            .iter()
            .filter(|(_, values)| redacted(values));
        let headers = headers.map(|(name, _)| format!("header {name}"));
        let query = request.query.iter().flat_map(|q| q.split('&'));
        let query = query
            .filter_map(|pair| pair.split_once('='))
            .filter(|(_, value)| *value == REDACTED)
            .map(|(name, _)| format!("query {name}"));
        headers.chain(query).collect()
    }
}

impl CallRecord {
    /// `auth: continue`, `auth: respond 401`, `auth: failed (trap)`.
    pub fn summary(&self) -> String {
        match (self.outcome, &self.response, &self.failure) {
            (CallOutcome::Respond, Some(response), _) => {
                format!("{}: respond {}", self.plugin, response.status)
            }
            (CallOutcome::Failed, _, Some(failure)) => {
                let kind = failure.split(':').next().unwrap_or(failure);
                format!("{}: failed ({kind})", self.plugin)
            }
            (outcome, _, _) => format!("{}: {outcome:?}", self.plugin).to_lowercase(),
        }
    }
}
