//! `edit-probe`: a test-only plugin that applies a script of edits and answers with what each
//! edit returned and what the message looks like afterwards. The conformance test
//! (`tests/suite/conformance.rs`) runs the same scripts on the SDK's fake host (this crate,
//! natively) and in the gateway (this crate, compiled): any difference is a rule the two hosts
//! disagree on.
//!
//! A script is edits separated by `;`, each an operation and its arguments separated by
//! spaces, every argument percent-decoded (so `%0D%0A` writes a CR LF):
//!
//! - request header `x-edits`, applied at METHOD REQUEST: `set-method M`, `set-path P`,
//!   `set-query Q`, `remove-query`, `set-header N V`, `append-header N V`, `remove-header N`,
//!   `context-set K V`, `context-remove K`;
//!   and calls to the shared store: `kv-set K LEN TTL_MS` (a value of LEN bytes), `kv-get K`,
//!   `kv-delete K`, `bucket K RATE BURST PERIOD_MS`, `quota K LIMIT` (a day's quota), where a
//!   key written `@N` is N bytes long; and to the metrics capability: `counter NAME L=V …`,
//!   `gauge NAME L=V …`, `histogram NAME L=V …` (a label value `@N` is N bytes long);
//! - request header `x-response-edits`, applied at METHOD RESPONSE: `set-status S`,
//!   `set-header N V`, `append-header N V`, `remove-header N`, `context-set K V`,
//!   `context-remove K`.
//!
//! The probe then answers 200 with a JSON body: `outcomes` (one per edit: `ok`, `read-only` or
//! `invalid: <message>`), and the message afterwards: the method, path and query (request
//! side) or the status (response side), every value of each header the script named, and each
//! context key it named (but the gateway's own, whose values differ between the hosts).

use serde_json::{Map, Value, json};
use std::time::Duration;

use wasmgate_plugin_sdk::rate_limit::{self, Bucket, Window};
use wasmgate_plugin_sdk::{
    Action, Context, EditError, InitError, NoConfig, Plugin, Request, Response, ResponseData,
    Stages, StoreError,
};
use wasmgate_plugin_sdk::{context, kv, metrics};

/// The request header holding the request-side script.
pub const REQUEST_SCRIPT: &str = "x-edits";
/// The request header holding the response-side script.
pub const RESPONSE_SCRIPT: &str = "x-response-edits";

/// The probe; it has no state.
pub struct EditProbe;

/// One parsed edit: the operation and its decoded arguments.
struct Edit {
    op: String,
    args: Vec<Vec<u8>>,
}

impl Edit {
    fn text(&self, index: usize) -> String {
        self.args
            .get(index)
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .unwrap_or_default()
    }

    fn bytes(&self, index: usize) -> &[u8] {
        self.args.get(index).map_or(&[], Vec::as_slice)
    }

    fn number(&self, index: usize) -> u64 {
        self.text(index).parse().unwrap_or(0)
    }

    /// A store key: `@N` is N bytes long, anything else is itself.
    fn key(&self, index: usize) -> String {
        let text = self.text(index);
        match text.strip_prefix('@').and_then(|n| n.parse().ok()) {
            Some(length) => "k".repeat(length),
            None => text,
        }
    }
}

/// A metrics call: the labels are the arguments after the name, `label=value`.
fn metrics_call(edit: &Edit) -> Result<(), EditError> {
    let labels: Vec<(String, String)> = (1..edit.args.len())
        .map(|index| {
            let text = edit.text(index);
            let (label, value) = text.split_once('=').unwrap_or((text.as_str(), ""));
            let value = match value.strip_prefix('@').and_then(|n| n.parse().ok()) {
                Some(length) => "v".repeat(length),
                None => value.to_owned(),
            };
            (label.to_owned(), value)
        })
        .collect();
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(label, value)| (label.as_str(), value.as_str()))
        .collect();
    let name = edit.text(0);
    let result = match edit.op.as_str() {
        "counter" => metrics::counter_add(&name, &labels, 1),
        "gauge" => metrics::gauge_set(&name, &labels, 1.0),
        _ => metrics::histogram_record(&name, &labels, 1.0),
    };
    result.map_err(|reason| EditError::Invalid(format!("metrics refused: {reason}")))
}

/// A call to the shared store or the metrics capability, or an error naming an operation the
/// probe does not know.
fn capability_call(edit: &Edit) -> Result<(), EditError> {
    if matches!(edit.op.as_str(), "counter" | "gauge" | "histogram") {
        return metrics_call(edit);
    }
    let millis = |index| Duration::from_millis(edit.number(index));
    let number = |index| u32::try_from(edit.number(index)).unwrap_or(u32::MAX);
    let result = match edit.op.as_str() {
        "kv-set" => {
            let value = vec![b'v'; usize::try_from(edit.number(1)).unwrap_or(0)];
            kv::set(&edit.key(0), &value, millis(2))
        }
        "kv-get" => kv::get(&edit.key(0)).map(drop),
        "kv-delete" => kv::delete(&edit.key(0)),
        "bucket" => {
            let bucket = Bucket {
                rate: number(1),
                burst: number(2),
                period: millis(3),
            };
            rate_limit::check_bucket(&edit.key(0), bucket, 1).map(drop)
        }
        "quota" => rate_limit::use_quota(&edit.key(0), edit.number(1), Window::Day, 1).map(drop),
        op => return Err(EditError::Invalid(format!("unknown op {op}"))),
    };
    result.map_err(|error| match error {
        StoreError::Invalid(reason) => EditError::Invalid(format!("store refused: {reason}")),
        StoreError::Unavailable(reason) => EditError::Invalid(format!("store down: {reason}")),
    })
}

/// What the script touched, to report afterwards.
#[derive(Default)]
struct Touched {
    headers: Vec<String>,
    keys: Vec<String>,
}

impl Touched {
    /// Every value of each touched header, read with `values`.
    fn header_values(&self, values: impl Fn(&str) -> Vec<Vec<u8>>) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|name| {
                let text = values(name)
                    .into_iter()
                    .map(|value| String::from_utf8_lossy(&value).into_owned())
                    .collect();
                (name.clone(), text)
            })
            .collect();
        headers.into()
    }

    fn note(&mut self, edit: &Edit) {
        let list = match edit.op.as_str() {
            "set-header" | "append-header" | "remove-header" => &mut self.headers,
            "context-set" | "context-remove" => &mut self.keys,
            _ => return,
        };
        let name = edit.text(0).to_ascii_lowercase();
        if !list.contains(&name) {
            list.push(name);
        }
    }
}

fn parse(script: &str) -> Vec<Edit> {
    script
        .split(';')
        .map(str::trim)
        .filter(|edit| !edit.is_empty())
        .map(|edit| {
            let mut words = edit.split(' ');
            Edit {
                op: words.next().unwrap_or_default().to_owned(),
                args: words.map(percent_decode).collect(),
            }
        })
        .collect()
}

fn percent_decode(word: &str) -> Vec<u8> {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn outcome(result: Result<(), EditError>) -> Value {
    match result {
        Ok(()) => json!("ok"),
        Err(EditError::ReadOnly) => json!("read-only"),
        Err(EditError::Invalid(reason)) => json!(format!("invalid: {reason}")),
    }
}

/// A context edit, or an error naming an operation the probe does not know.
fn context_edit(edit: &Edit, context: &mut Context<'_>) -> Result<(), EditError> {
    match edit.op.as_str() {
        "context-set" => context.set(&edit.text(0), edit.text(1)),
        "context-remove" => context.remove(&edit.text(0)),
        _ => capability_call(edit),
    }
}

fn answer(mut report: Map<String, Value>, touched: &Touched, context: &Context<'_>) -> Action {
    let keys: Map<String, Value> = touched
        .keys
        .iter()
        .filter(|key| context::is_writable(key))
        .map(|key| (key.clone(), json!(context.get(key))))
        .collect();
    report.insert("context".into(), keys.into());
    let body = Value::Object(report).to_string();
    Action::Respond(
        ResponseData::new(200)
            .header("content-type", "application/json")
            .body(body),
    )
}

impl Plugin for EditProbe {
    type Config = NoConfig;

    fn init(_: NoConfig) -> Result<Self, InitError> {
        Ok(EditProbe)
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let Some(script) = request.header_str(REQUEST_SCRIPT) else {
            return Action::Continue;
        };
        let (outcomes, touched) = run(&script, |edit| match edit.op.as_str() {
            "set-method" => request.set_method(&edit.text(0)),
            "set-path" => request.set_path(&edit.text(0)),
            "set-query" => request.set_query(Some(&edit.text(0))),
            "remove-query" => request.set_query(None),
            "set-header" => request.set_header(&edit.text(0), edit.bytes(1)),
            "append-header" => request.append_header(&edit.text(0), edit.bytes(1)),
            "remove-header" => request.remove_header(&edit.text(0)),
            _ => context_edit(edit, context),
        });
        let mut report = Map::new();
        report.insert("outcomes".into(), outcomes.into());
        report.insert("method".into(), request.method().into());
        report.insert("path".into(), request.path().into());
        report.insert("query".into(), json!(request.query()));
        let headers = touched.header_values(|name| request.header_values(name));
        report.insert("headers".into(), headers);
        answer(report, &touched, context)
    }

    fn on_method_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let Some(script) = request.header_str(RESPONSE_SCRIPT) else {
            return Action::Continue;
        };
        let (outcomes, touched) = run(&script, |edit| match edit.op.as_str() {
            "set-status" => response.set_status(edit.text(0).parse().unwrap_or(0)),
            "set-header" => response.set_header(&edit.text(0), edit.bytes(1)),
            "append-header" => response.append_header(&edit.text(0), edit.bytes(1)),
            "remove-header" => response.remove_header(&edit.text(0)),
            _ => context_edit(edit, context),
        });
        let mut report = Map::new();
        report.insert("outcomes".into(), outcomes.into());
        report.insert("status".into(), response.status().into());
        let headers = touched.header_values(|name| response.header_values(name));
        report.insert("headers".into(), headers);
        answer(report, &touched, context)
    }
}

/// Applies every edit of `script` with `apply`: one outcome per edit, and what was touched.
fn run(
    script: &str,
    mut apply: impl FnMut(&Edit) -> Result<(), EditError>,
) -> (Vec<Value>, Touched) {
    let mut touched = Touched::default();
    let outcomes = parse(script)
        .iter()
        .map(|edit| {
            touched.note(edit);
            outcome(apply(edit))
        })
        .collect();
    (outcomes, touched)
}

wasmgate_plugin_sdk::export_plugin!(EditProbe);
