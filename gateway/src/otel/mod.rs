//! OTLP span export (`[tracing] otlp_endpoint = …`): the spans of each sampled request, sent in
//! batches to an OpenTelemetry collector over OTLP/HTTP (protobuf), off the request path.
//!
//! ```text
//! SERVER  GET <route id>                 parent: the client's traceparent span (or a root)
//! ├── INTERNAL method-request            one per stage chain that ran
//! │   └── INTERNAL plugin <name>         one per plugin call
//! ├── INTERNAL integration-request
//! ├── CLIENT   GET <upstream>            its span id is the one sent upstream in `traceparent`,
//! │                                      so the backend's spans nest under it
//! ├── INTERNAL integration-response
//! ├── INTERNAL method-response
//! └── INTERNAL log                       after the response was sent
//! ```
//!
//! The request's trace id is the one in the access log and on plugin log lines. Sampling is
//! parent-based: a client's `traceparent` sampled flag decides for its trace; a new trace is
//! sampled with probability `sample_ratio` (decided from the random part of its trace id, so
//! replicas agree), and the decision travels upstream in the flag.
//!
//! Cost: without an exporter, a request pays one branch per stage. With one, a sampled request
//! records instants into a small per-request struct (`RequestSpans`); once it is over, the
//! spans are built and queued. The queue is bounded ([`MAX_QUEUED_SPANS`]): when the collector
//! falls behind, spans are dropped and counted
//! ([`TRACE_SPANS_DROPPED_TOTAL`](crate::metrics::TRACE_SPANS_DROPPED_TOTAL)); a request never
//! waits for the exporter. A background task exports in batches and logs failures at most once a
//! minute.
//!
//! The exporter lives in the [`Snapshot`](crate::snapshot::Snapshot): a reload with the same
//! `[tracing]` keeps it, a changed section starts a new one, and the old one exports what it
//! holds once the last request of its snapshot is over. Besides the configured headers, the
//! standard `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_TRACES_HEADERS` variables add
//! headers to every export.

mod batch;
mod record;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderMap;
use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use tokio::sync::{mpsc, watch};

use crate::config::OtlpExport;
use crate::tracecontext::TraceParent;

pub(crate) use record::{IntegrationRecord, RequestSpans, ServerFacts};

/// The most spans waiting for export; beyond, new spans are dropped (and counted).
pub const MAX_QUEUED_SPANS: usize = 16 * 1024;

/// Why the exporter could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the OTLP exporter: {0}")]
pub struct ExporterError(String);

/// An OTLP span exporter: a bounded queue and the task that drains it in batches.
pub struct OtlpExporter {
    settings: OtlpExport,
    queue: mpsc::UnboundedSender<Vec<SpanData>>,
    shared: Arc<Shared>,
    scope: InstrumentationScope,
    closed: watch::Receiver<()>,
}

/// What the request path and the export task share.
struct Shared {
    /// Spans queued and not yet taken by the export task.
    queued: AtomicUsize,
    /// Spans dropped because the queue was full, not yet reported in the log.
    dropped_unlogged: AtomicU64,
}

impl OtlpExporter {
    /// Builds the OTLP/HTTP exporter `settings` describe and starts its export task on the
    /// current Tokio runtime.
    pub fn start(settings: &OtlpExport) -> Result<Self, ExporterError> {
        let headers = settings
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect();
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.to_string())
            .with_timeout(settings.timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| ExporterError(e.to_string()))?;
        let version = env!("CARGO_PKG_VERSION");
        exporter.set_resource(
            &Resource::builder_empty()
                .with_service_name(settings.service_name.clone())
                .with_attribute(opentelemetry::KeyValue::new("service.version", version))
                .build(),
        );
        let (queue, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            dropped_unlogged: AtomicU64::new(0),
        });
        let (closing, closed) = watch::channel(());
        let task = batch::ExportTask {
            exporter,
            endpoint: settings.endpoint.to_string(),
            shared: shared.clone(),
            _closing: closing,
        };
        tokio::spawn(task.run(receiver));
        Ok(OtlpExporter {
            settings: settings.clone(),
            queue,
            shared,
            scope: InstrumentationScope::builder("wasmgate")
                .with_version(version)
                .build(),
            closed,
        })
    }

    /// The settings it was started with (a reload with equal settings keeps the exporter).
    pub fn settings(&self) -> &OtlpExport {
        &self.settings
    }

    /// Whether a new trace with this id (32 hex digits) is sampled: its rightmost 7 bytes (random
    /// in the ids the gateway generates; the UUID version and variant bits are before them)
    /// compared with `sample_ratio`, so the decision is a function of the trace id.
    pub fn samples_new_trace(&self, trace_id: &str) -> bool {
        let ratio = self.settings.sample_ratio;
        if ratio >= 1.0 {
            return true;
        }
        let random = trace_id
            .get(18..)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .unwrap_or(0);
        random < (ratio * (1u64 << 56) as f64) as u64
    }

    /// Builds the request's spans and queues them, or drops them when the queue is full.
    pub(crate) fn export(&self, spans: RequestSpans, facts: &ServerFacts<'_>) {
        let spans = spans.finish(facts, &self.scope);
        let count = spans.len();
        if count == 0 {
            return;
        }
        let queued = self.shared.queued.fetch_add(count, Ordering::AcqRel);
        if queued + count > MAX_QUEUED_SPANS || self.queue.send(spans).is_err() {
            self.shared.queued.fetch_sub(count, Ordering::AcqRel);
            self.shared
                .dropped_unlogged
                .fetch_add(count as u64, Ordering::Relaxed);
            metrics::counter!(crate::metrics::TRACE_SPANS_DROPPED_TOTAL, "reason" => "queue_full")
                .increment(count as u64);
        }
    }

    /// A handle that resolves once this exporter is gone and its task has exported (or given
    /// up on) everything queued: see [`ExportDrained::wait`].
    pub fn drained(&self) -> ExportDrained {
        ExportDrained {
            closed: self.closed.clone(),
            budget: self.settings.timeout * 2 + batch::LINGER,
        }
    }
}

/// Resolves when an exporter's task has finished; holding it does not keep the exporter alive.
pub struct ExportDrained {
    closed: watch::Receiver<()>,
    budget: Duration,
}

impl ExportDrained {
    /// Waits until the export task has finished — after the last holder of the exporter (a
    /// snapshot, a request still finishing) let go of it — for at most two export timeouts.
    /// Returns whether it finished in time.
    pub async fn wait(mut self) -> bool {
        let finished = async { while self.closed.changed().await.is_ok() {} };
        tokio::time::timeout(self.budget, finished).await.is_ok()
    }
}

/// The trace a request belongs to — the client's (`traceparent`) or a new one — and its span
/// recorder, which records only when `exporter` is set and the trace is sampled.
///
/// Without an exporter, a new trace is sampled (flag `01`) as it always was; with one, a new
/// trace is sampled at the configured ratio.
pub(crate) fn begin(
    exporter: Option<&OtlpExporter>,
    headers: &HeaderMap,
    started: Instant,
    arrived: SystemTime,
) -> (TraceParent, RequestSpans) {
    let incoming = headers.get("traceparent").and_then(TraceParent::parse);
    let continued = incoming.is_some();
    let trace = incoming.unwrap_or_else(TraceParent::generate);
    let Some(exporter) = exporter else {
        return (trace, RequestSpans::default());
    };
    let trace = if continued {
        trace
    } else {
        let sampled = exporter.samples_new_trace(&trace.trace_id);
        trace.with_sampled(sampled)
    };
    if !trace.sampled() {
        return (trace, RequestSpans::default());
    }
    let parent = continued.then_some(trace.span_id.as_str());
    let state = headers.get("tracestate").and_then(|v| v.to_str().ok());
    let spans = RequestSpans::record(&trace.trace_id, parent, state, started, arrived);
    (trace, spans)
}

#[cfg(test)]
mod tests;
