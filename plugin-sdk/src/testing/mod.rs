//! Unit-test plugins natively, against an in-process fake host.
//!
//! On native targets [`Request`], [`Response`] and [`Context`] are backed by the fakes of this
//! module, so a plugin's logic runs under plain `cargo test`. The fake applies the gateway's
//! rules where they matter:
//!
//! - a stage runner calls the plugin only if it declared the stage in [`Plugin::stages`], like
//!   the gateway (otherwise it returns [`Action::Continue`] without calling it);
//! - reading a body fails with [`BodyError::NotDeclared`](crate::BodyError::NotDeclared)
//!   unless [`Plugin::body_access`] declared it, and with
//!   [`BodyError::TooLarge`](crate::BodyError::TooLarge) above a [`FakeRequest::body_cap`];
//! - `gateway.` context keys are read-only; invalid header names and values, methods, paths
//!   and statuses are refused with [`EditError::Invalid`](crate::EditError::Invalid);
//! - the request is read-only at the response stages and everything at the log stage (the
//!   stage methods get `&Request` / `&Response` / `&Context` there);
//! - [`init`] goes through the same JSON config path as the gateway's `init` call, so unknown
//!   keys and type errors are reported the same way;
//! - a [`Action::Respond`] with an invalid status or header panics, naming the problem.
//!
//! ```
//! use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
//! # use wasmgate_plugin_sdk::{Action, Context, InitError, NoConfig, Plugin, Request, Stages};
//! # struct Tag;
//! # impl Plugin for Tag {
//! #     type Config = NoConfig;
//! #     fn init(_: NoConfig) -> Result<Self, InitError> { Ok(Tag) }
//! #     fn stages(&self) -> Stages { Stages::METHOD_REQUEST }
//! #     fn on_method_request(&self, request: &mut Request<'_>, _: &mut Context<'_>) -> Action {
//! #         request.set_header("x-tag", "1").unwrap();
//! #         Action::Continue
//! #     }
//! # }
//! let plugin = testing::init::<Tag>(serde_json::json!({})).unwrap();
//! let mut request = FakeRequest::new("GET", "/");
//! let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
//! assert_eq!(action, Action::Continue);
//! assert_eq!(request.header_str("x-tag"), Some("1"));
//! ```
//!
//! Log lines and the frozen clock are per thread, hence per test.

mod config_fixtures;
mod fakes;

use std::time::{Duration, SystemTime};

pub use config_fixtures::assert_invalid_config_fixtures;
pub use fakes::{FakeContext, FakeHeaders, FakeRequest, FakeResponse};

use crate::header::{is_valid_name, is_valid_value};
use crate::host::{self, Access, ContextHandle, RequestHandle, ResponseHandle};
use crate::log::Level;
use crate::{Action, BodyAccess, Context, InitError, Plugin, Request, Response, Stage};

/// Deserialises `config` into the plugin's config and calls [`Plugin::init`], exactly as the
/// gateway's `init` call does with the config section it serialised as JSON.
pub fn init<P: Plugin>(config: serde_json::Value) -> Result<P, InitError> {
    crate::config::init::<P>(&config.to_string())
}

/// Runs the METHOD REQUEST stage, if the plugin declared it (else returns `Continue`).
pub fn method_request<P: Plugin>(
    plugin: &P,
    request: &mut FakeRequest,
    context: &mut FakeContext,
) -> Action {
    if !plugin.stages().has(Stage::MethodRequest) {
        return Action::Continue;
    }
    let mut request = editable_request(plugin, request);
    let mut context = Context::new(ContextHandle(Access::Write(context)));
    checked(plugin.on_method_request(&mut request, &mut context))
}

/// Runs the INTEGRATION REQUEST stage, if the plugin declared it (else returns `Continue`).
pub fn integration_request<P: Plugin>(
    plugin: &P,
    request: &mut FakeRequest,
    context: &mut FakeContext,
) -> Action {
    if !plugin.stages().has(Stage::IntegrationRequest) {
        return Action::Continue;
    }
    let mut request = editable_request(plugin, request);
    let mut context = Context::new(ContextHandle(Access::Write(context)));
    checked(plugin.on_integration_request(&mut request, &mut context))
}

/// Runs the INTEGRATION RESPONSE stage, if the plugin declared it (else returns `Continue`).
pub fn integration_response<P: Plugin>(
    plugin: &P,
    request: &FakeRequest,
    response: &mut FakeResponse,
    context: &mut FakeContext,
) -> Action {
    if !plugin.stages().has(Stage::IntegrationResponse) {
        return Action::Continue;
    }
    let request = read_only_request(plugin, request);
    let mut response = editable_response(plugin, response);
    let mut context = Context::new(ContextHandle(Access::Write(context)));
    checked(plugin.on_integration_response(&request, &mut response, &mut context))
}

/// Runs the METHOD RESPONSE stage, if the plugin declared it (else returns `Continue`).
pub fn method_response<P: Plugin>(
    plugin: &P,
    request: &FakeRequest,
    response: &mut FakeResponse,
    context: &mut FakeContext,
) -> Action {
    if !plugin.stages().has(Stage::MethodResponse) {
        return Action::Continue;
    }
    let request = read_only_request(plugin, request);
    let mut response = editable_response(plugin, response);
    let mut context = Context::new(ContextHandle(Access::Write(context)));
    checked(plugin.on_method_response(&request, &mut response, &mut context))
}

/// Runs the LOG stage, if the plugin declared it. Everything is read-only.
pub fn log<P: Plugin>(
    plugin: &P,
    request: &FakeRequest,
    response: &FakeResponse,
    context: &FakeContext,
) {
    if plugin.stages().has(Stage::Log) {
        let request = read_only_request(plugin, request);
        let declared = plugin.body_access().contains(BodyAccess::RESPONSE);
        let response = Response::new(ResponseHandle::new(Access::Read(response), declared));
        let context = Context::new(ContextHandle(Access::Read(context)));
        plugin.on_log(&request, &response, &context);
    }
}

fn editable_request<'a, P: Plugin>(plugin: &P, request: &'a mut FakeRequest) -> Request<'a> {
    let declared = plugin.body_access().contains(BodyAccess::REQUEST);
    Request::new(RequestHandle::new(Access::Write(request), declared))
}

fn read_only_request<'a, P: Plugin>(plugin: &P, request: &'a FakeRequest) -> Request<'a> {
    let declared = plugin.body_access().contains(BodyAccess::REQUEST);
    Request::new(RequestHandle::new(Access::Read(request), declared))
}

fn editable_response<'a, P: Plugin>(plugin: &P, response: &'a mut FakeResponse) -> Response<'a> {
    let declared = plugin.body_access().contains(BodyAccess::RESPONSE);
    Response::new(ResponseHandle::new(Access::Write(response), declared))
}

/// Panics on a response the gateway would refuse, naming the problem.
fn checked(action: Action) -> Action {
    if let Action::Respond(response) = &action {
        if let Err(reason) = wasmgate_plugin_contract::edits::check_status(response.status) {
            panic!(
                "the plugin answered with status {}: {reason}",
                response.status
            );
        }
        for (name, value) in &response.headers {
            assert!(
                is_valid_name(name),
                "the plugin answered with header name `{name}`"
            );
            assert!(
                is_valid_value(value),
                "the plugin answered with an invalid `{name}` value"
            );
        }
    }
    action
}

/// A line a plugin logged through [`crate::log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its message.
    pub message: String,
    /// Its key/value fields, in order.
    pub fields: Vec<(String, String)>,
}

impl LogLine {
    /// The value of a field.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The lines logged on this thread so far (by this test).
pub fn log_lines() -> Vec<LogLine> {
    host::log_lines()
}

/// The lines logged on this thread so far, clearing the record.
pub fn take_log_lines() -> Vec<LogLine> {
    host::take_log_lines()
}

/// Records only lines at `level` or more severe on this thread (default: every level), and
/// makes [`log::enabled`](crate::log::enabled) answer accordingly.
pub fn set_log_level(level: Level) {
    host::set_log_level(level);
}

/// Stops the clock of this thread at `at`: [`clock::now`](crate::clock::now) returns it and
/// [`clock::monotonic_nanos`](crate::clock::monotonic_nanos) stands still until
/// [`advance_clock`] or [`unfreeze_clock`].
pub fn freeze_clock(at: SystemTime) {
    host::set_frozen_clock(Some((at, crate::clock::monotonic_nanos())));
}

/// Moves the clock of this thread forward (freezing it first at the current time if needed).
pub fn advance_clock(by: Duration) {
    let (wall, monotonic) = host::frozen_clock()
        .unwrap_or_else(|| (SystemTime::now(), crate::clock::monotonic_nanos()));
    let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
    host::set_frozen_clock(Some((wall + by, monotonic.saturating_add(nanos))));
}

/// Lets the clock of this thread follow the system clock again.
pub fn unfreeze_clock() {
    host::set_frozen_clock(None);
}

/// One call a plugin made to [`metrics`](crate::metrics), as the fake host recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedMetric {
    /// Counter, histogram or gauge.
    pub kind: crate::metrics::MetricKind,
    /// The name the plugin gave (the gateway prefixes it with `plugin_<plugin>_`).
    pub name: String,
    /// The labels, in the order given.
    pub labels: Vec<(String, String)>,
    /// The value added, observed or set.
    pub value: f64,
}

/// The metric calls made on this thread since the last call, clearing the record.
pub fn recorded_metrics() -> Vec<RecordedMetric> {
    host::take_metrics()
}

/// Attaches document `name` to this thread's fake host (as `[plugins.<name>.documents]` does in
/// the gateway); attaching it again replaces the content and increments its version.
pub fn set_document(name: &str, content: &[u8]) {
    host::set_document(name, content);
}

/// Makes every [`rate_limit`](crate::rate_limit) and [`kv`](crate::kv) call on this thread fail
/// with [`StoreError::Unavailable`](crate::StoreError::Unavailable) (as when the gateway's Redis
/// is down and the policy is fail-closed), or brings the store back.
pub fn set_store_unavailable(unavailable: bool) {
    host::set_store_unavailable(unavailable);
}
