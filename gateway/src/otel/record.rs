//! The spans of one request: instants recorded while it is served, turned into `SpanData` once
//! it is over (off the response's way, in the task that also writes the access log).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Instant, SystemTime};

use http::{Method, StatusCode};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanEvents, SpanLinks};

use crate::exchange::Stage;
use crate::plugin::{PluginFailure, StageAction};

/// The span recorder of one request. Empty (`default()`) unless spans are exported and the
/// request's trace is sampled: then every method is a single branch.
#[derive(Default)]
pub(crate) struct RequestSpans(Option<Box<Recording>>);

struct Recording {
    trace_id: TraceId,
    /// The client's span (from its `traceparent`); `None` for a new trace.
    remote_parent: Option<SpanId>,
    trace_state: TraceState,
    /// The request's first instant, and the wall-clock time it stands for.
    origin: (Instant, SystemTime),
    stages: Vec<StageRecord>,
    /// Plugin calls of the stage chain running now.
    plugins: Vec<PluginRecord>,
    integration: Option<IntegrationRecord>,
}

struct StageRecord {
    stage: Stage,
    start: Instant,
    end: Instant,
    answered: bool,
    plugins: Vec<PluginRecord>,
}

struct PluginRecord {
    name: String,
    start: Instant,
    end: Instant,
    outcome: &'static str,
    failure: Option<(&'static str, String)>,
}

/// What the integration call was: the CLIENT span.
pub(crate) struct IntegrationRecord {
    /// The span id sent upstream in `traceparent`.
    pub(crate) span_id: String,
    /// The method the backend was sent.
    pub(crate) method: Method,
    /// The upstream's name in config.
    pub(crate) upstream: String,
    /// The upstream's base URL.
    pub(crate) url: Option<http::Uri>,
    /// When the call started and ended (response head received, or failure).
    pub(crate) start: Instant,
    /// See `start`.
    pub(crate) end: Instant,
    /// The backend's status, or the gateway response type of the failure.
    pub(crate) result: Result<StatusCode, &'static str>,
}

/// What the SERVER span says about the request, known once the response was sent.
pub(crate) struct ServerFacts<'a> {
    /// The client's method.
    pub(crate) method: &'a Method,
    /// The matched route's id.
    pub(crate) route: Option<&'a str>,
    /// The path the client asked for.
    pub(crate) path: &'a str,
    /// The client's address.
    pub(crate) client: SocketAddr,
    /// The status sent.
    pub(crate) status: StatusCode,
    /// The request id.
    pub(crate) request_id: &'a str,
    /// The gateway response type, when the gateway answered itself.
    pub(crate) gateway_response: Option<&'a str>,
    /// When the response was sent.
    pub(crate) ended: Instant,
}

impl RequestSpans {
    /// A recorder for a sampled request of trace `trace_id` (hex), child of the client's span
    /// `remote_parent` (hex) when it sent a `traceparent`.
    pub(crate) fn record(
        trace_id: &str,
        remote_parent: Option<&str>,
        trace_state: Option<&str>,
        started: Instant,
        arrived: SystemTime,
    ) -> Self {
        let Ok(trace_id) = TraceId::from_hex(trace_id) else {
            return RequestSpans::default();
        };
        RequestSpans(Some(Box::new(Recording {
            trace_id,
            remote_parent: remote_parent.and_then(|id| SpanId::from_hex(id).ok()),
            trace_state: trace_state
                .and_then(|s| TraceState::from_str(s).ok())
                .unwrap_or_default(),
            origin: (started, arrived),
            stages: Vec::new(),
            plugins: Vec::new(),
            integration: None,
        })))
    }

    /// Whether this request's spans are recorded.
    pub(crate) fn is_recording(&self) -> bool {
        self.0.is_some()
    }

    /// A plugin call of the chain running now ended.
    pub(crate) fn plugin_call(
        &mut self,
        name: &str,
        start: Instant,
        end: Instant,
        result: &Result<StageAction, PluginFailure>,
    ) {
        let Some(recording) = &mut self.0 else { return };
        let (outcome, failure) = match result {
            Ok(StageAction::Continue) => ("continue", None),
            Ok(StageAction::Respond(_)) => ("respond", None),
            Err(failure) => ("failure", Some((failure.kind(), failure.to_string()))),
        };
        recording.plugins.push(PluginRecord {
            name: name.to_owned(),
            start,
            end,
            outcome,
            failure,
        });
    }

    /// A stage chain ran from `start` to now; `answered`: a plugin answered (or replaced the
    /// response).
    pub(crate) fn stage(&mut self, stage: Stage, start: Instant, answered: bool) {
        let Some(recording) = &mut self.0 else { return };
        let plugins = std::mem::take(&mut recording.plugins);
        recording.stages.push(StageRecord {
            stage,
            start,
            end: Instant::now(),
            answered,
            plugins,
        });
    }

    /// The integration call ended.
    pub(crate) fn integration(&mut self, record: IntegrationRecord) {
        if let Some(recording) = &mut self.0 {
            recording.integration = Some(record);
        }
    }

    /// The request's spans, children first (nothing when not recording).
    pub(super) fn finish(
        self,
        facts: &ServerFacts<'_>,
        scope: &InstrumentationScope,
    ) -> Vec<SpanData> {
        let Some(recording) = self.0 else {
            return Vec::new();
        };
        recording.finish(facts, scope)
    }
}

impl Recording {
    fn finish(self, facts: &ServerFacts<'_>, scope: &InstrumentationScope) -> Vec<SpanData> {
        let ids = RandomIdGenerator::default();
        let server_id = ids.new_span_id();
        let plugin_count: usize = self.stages.iter().map(|s| s.plugins.len()).sum();
        let mut spans = Vec::with_capacity(2 + self.stages.len() + plugin_count);
        for stage in &self.stages {
            let stage_id = ids.new_span_id();
            for plugin in &stage.plugins {
                let name = Cow::Owned(format!("plugin {}", plugin.name));
                let times = (plugin.start, plugin.end);
                let mut span = self.span(scope, ids.new_span_id(), stage_id, name, times);
                span.attributes = vec![
                    KeyValue::new("wasmgate.plugin", plugin.name.clone()),
                    KeyValue::new("wasmgate.stage", stage.stage.name()),
                    KeyValue::new("wasmgate.plugin.outcome", plugin.outcome),
                ];
                if let Some((kind, message)) = &plugin.failure {
                    span.attributes.push(KeyValue::new("error.type", *kind));
                    span.status = Status::error(message.clone());
                }
                spans.push(span);
            }
            let name = Cow::Borrowed(stage.stage.name());
            let mut span = self.span(scope, stage_id, server_id, name, (stage.start, stage.end));
            span.attributes = vec![
                KeyValue::new("wasmgate.stage", stage.stage.name()),
                KeyValue::new("wasmgate.stage.answered", stage.answered),
            ];
            spans.push(span);
        }
        if let Some(call) = &self.integration
            && let Ok(call_id) = SpanId::from_hex(&call.span_id)
        {
            let name = Cow::Owned(format!("{} {}", call.method, call.upstream));
            let mut span = self.span(scope, call_id, server_id, name, (call.start, call.end));
            span.span_kind = SpanKind::Client;
            span.attributes = client_attributes(call);
            span.status = match call.result {
                Err(kind) => Status::error(kind),
                Ok(status) if status.as_u16() >= 400 => Status::error(""),
                Ok(_) => Status::Unset,
            };
            spans.push(span);
        }
        let name = match facts.route {
            Some(route) => Cow::Owned(format!("{} {route}", facts.method)),
            None => Cow::Owned(facts.method.to_string()),
        };
        let parent = self.remote_parent.unwrap_or(SpanId::INVALID);
        let mut span = self.span(scope, server_id, parent, name, (self.origin.0, facts.ended));
        span.span_kind = SpanKind::Server;
        span.parent_span_is_remote = self.remote_parent.is_some();
        span.attributes = server_attributes(facts);
        if facts.status.is_server_error() {
            span.status = Status::error(facts.gateway_response.unwrap_or_default().to_owned());
        }
        spans.push(span);
        spans
    }

    /// An INTERNAL span of this trace, without attributes.
    fn span(
        &self,
        scope: &InstrumentationScope,
        id: SpanId,
        parent: SpanId,
        name: Cow<'static, str>,
        (start, end): (Instant, Instant),
    ) -> SpanData {
        let flags = TraceFlags::SAMPLED;
        SpanData {
            span_context: SpanContext::new(
                self.trace_id,
                id,
                flags,
                false,
                self.trace_state.clone(),
            ),
            parent_span_id: parent,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name,
            start_time: self.time(start),
            end_time: self.time(end.max(start)),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope.clone(),
        }
    }

    /// The wall-clock time of `instant`.
    fn time(&self, instant: Instant) -> SystemTime {
        let (origin, arrived) = self.origin;
        arrived + instant.saturating_duration_since(origin)
    }
}

fn server_attributes(facts: &ServerFacts<'_>) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", facts.method.to_string()),
        KeyValue::new("url.path", facts.path.to_owned()),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new(
            "http.response.status_code",
            i64::from(facts.status.as_u16()),
        ),
        KeyValue::new("client.address", facts.client.ip().to_string()),
        KeyValue::new("client.port", i64::from(facts.client.port())),
        KeyValue::new("wasmgate.request_id", facts.request_id.to_owned()),
    ];
    if let Some(route) = facts.route {
        attributes.push(KeyValue::new("http.route", route.to_owned()));
    }
    if let Some(kind) = facts.gateway_response {
        attributes.push(KeyValue::new("wasmgate.gateway_response", kind.to_owned()));
    }
    attributes
}

fn client_attributes(call: &IntegrationRecord) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", call.method.to_string()),
        KeyValue::new("wasmgate.upstream", call.upstream.clone()),
    ];
    if let Some(url) = &call.url
        && let Some(host) = url.host()
    {
        let host = host.trim_matches(['[', ']']).to_owned();
        attributes.push(KeyValue::new("server.address", host));
        let port = url.port_u16().unwrap_or(80);
        attributes.push(KeyValue::new("server.port", i64::from(port)));
    }
    match call.result {
        Ok(status) => attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        )),
        Err(kind) => attributes.push(KeyValue::new("error.type", kind)),
    }
    attributes
}
