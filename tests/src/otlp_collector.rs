//! A fake OpenTelemetry collector on loopback: takes OTLP/HTTP protobuf exports
//! (`POST /v1/traces`), decodes them, and lets a test wait — with a deadline, never a fixed
//! sleep — until the spans of a trace have arrived.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind, status::StatusCode as Code};
use prost::Message;
use tokio::sync::Notify;

/// A running fake collector.
pub struct OtlpCollector {
    /// Its address.
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    spans: Mutex<Vec<ReceivedSpan>>,
    /// The headers of the last export request.
    headers: Mutex<HeaderMap>,
    arrived: Notify,
}

/// A span as the collector received it, with the `service.name` of its resource.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The resource's `service.name`.
    pub service_name: Option<String>,
    /// The span, as decoded.
    pub span: Span,
}

impl ReceivedSpan {
    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        hex::encode(&self.span.trace_id)
    }

    /// The span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        hex::encode(&self.span.span_id)
    }

    /// The parent's span id (empty for a root span).
    pub fn parent_span_id(&self) -> String {
        hex::encode(&self.span.parent_span_id)
    }

    /// The span's name.
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub fn kind(&self) -> &'static str {
        match SpanKind::try_from(self.span.kind) {
            Ok(SpanKind::Server) => "server",
            Ok(SpanKind::Client) => "client",
            Ok(SpanKind::Internal) => "internal",
            Ok(SpanKind::Producer) => "producer",
            Ok(SpanKind::Consumer) => "consumer",
            _ => "unspecified",
        }
    }

    /// Whether the span's status is an error.
    pub fn is_error(&self) -> bool {
        self.span
            .status
            .as_ref()
            .is_some_and(|s| s.code == Code::Error as i32)
    }

    /// An attribute's value as text (strings as they are, numbers and booleans written out).
    pub fn attribute(&self, key: &str) -> Option<String> {
        value_text(&self.span.attributes, key)
    }
}

impl OtlpCollector {
    /// Starts the collector on 127.0.0.1 with an OS-chosen port.
    pub async fn start() -> OtlpCollector {
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let (address, task) = crate::loopback::serve("collector", move |request| {
            receive(serving.clone(), request)
        })
        .await;
        OtlpCollector {
            address,
            shared,
            task,
        }
    }

    /// `http://<address>/v1/traces`, the value for `otlp_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1/traces", self.address)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.shared.spans.lock().unwrap().clone()
    }

    /// The headers of the last export request.
    pub fn last_headers(&self) -> HeaderMap {
        self.shared.headers.lock().unwrap().clone()
    }

    /// Waits until at least `count` spans of trace `trace_id` arrived (at most `within`), and
    /// returns the trace's spans; panics with what did arrive otherwise.
    pub async fn wait_for_trace(
        &self,
        trace_id: &str,
        count: usize,
        within: Duration,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            let trace: Vec<_> = self
                .spans()
                .into_iter()
                .filter(|s| s.trace_id() == trace_id)
                .collect();
            if trace.len() >= count {
                return trace;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let names: Vec<_> = trace.iter().map(|s| s.name().to_owned()).collect();
                panic!(
                    "{count} spans of trace {trace_id} not received within {within:?}: {names:?}"
                );
            }
        }
    }
}

impl Drop for OtlpCollector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let decoded = (parts.uri.path() == "/v1/traces")
        .then(|| ExportTraceServiceRequest::decode(body).ok())
        .flatten();
    let Some(export) = decoded else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let mut received = Vec::new();
    for resource_spans in export.resource_spans {
        let attributes = resource_spans.resource.map(|r| r.attributes);
        let service_name = attributes.and_then(|a| value_text(&a, "service.name"));
        for scope_spans in resource_spans.scope_spans {
            received.extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                service_name: service_name.clone(),
                span,
            }));
        }
    }
    *shared.headers.lock().unwrap() = parts.headers;
    shared.spans.lock().unwrap().extend(received);
    shared.arrived.notify_waiters();
    let response = Response::builder()
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::new()))
        .expect("valid response");
    Ok(response)
}

fn value_text(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(n) => Some(n.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}
