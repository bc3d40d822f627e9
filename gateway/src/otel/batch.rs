//! The export task: takes queued spans, waits a little for more ([`LINGER`], or until
//! [`MAX_BATCH`] spans), sends them in one OTLP request, and so on until the queue closes —
//! when the last holder of the exporter let go — after which it sends what is left and ends.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::Shared;
use crate::metrics::{TRACE_SPANS_DROPPED_TOTAL, TRACE_SPANS_EXPORTED_TOTAL};

/// How long the first spans of a batch wait for company before they are sent.
pub(super) const LINGER: Duration = Duration::from_millis(500);

/// The most spans in one export request.
const MAX_BATCH: usize = 512;

/// Export problems are logged at most this often (the metrics count every one).
const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// The task's state: the exporter and what it shares with the request path.
pub(super) struct ExportTask {
    /// The OTLP/HTTP exporter.
    pub(super) exporter: opentelemetry_otlp::SpanExporter,
    /// The collector's URL, for log lines.
    pub(super) endpoint: String,
    /// Queue accounting shared with [`super::OtlpExporter::export`].
    pub(super) shared: Arc<Shared>,
    /// Dropped when the task ends, which is what [`super::ExportDrained`] waits for.
    pub(super) _closing: watch::Sender<()>,
}

impl ExportTask {
    /// Exports batches until `queue` closes and is empty.
    pub(super) async fn run(self, mut queue: mpsc::UnboundedReceiver<Vec<SpanData>>) {
        let mut problems = ProblemLog::default();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut open = true;
        while open {
            let Some(first) = queue.recv().await else {
                break;
            };
            self.take(first, &mut batch);
            let deadline = Instant::now() + LINGER;
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, queue.recv()).await {
                    Ok(Some(spans)) => self.take(spans, &mut batch),
                    Ok(None) => {
                        open = false;
                        break;
                    }
                    Err(_) => break,
                }
            }
            let spans = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
            self.export(spans, &mut problems).await;
        }
    }

    fn take(&self, spans: Vec<SpanData>, batch: &mut Vec<SpanData>) {
        self.shared.queued.fetch_sub(spans.len(), Ordering::AcqRel);
        batch.extend(spans);
    }

    async fn export(&self, spans: Vec<SpanData>, problems: &mut ProblemLog) {
        let count = spans.len() as u64;
        let result = self.exporter.export(spans).await;
        let dropped = self.shared.dropped_unlogged.swap(0, Ordering::Relaxed);
        match result {
            Ok(()) => {
                metrics::counter!(TRACE_SPANS_EXPORTED_TOTAL).increment(count);
                problems.exported(&self.endpoint, dropped);
            }
            Err(error) => {
                metrics::counter!(TRACE_SPANS_DROPPED_TOTAL, "reason" => "export_failed")
                    .increment(count);
                problems.failed(&self.endpoint, &error, count, dropped);
            }
        }
    }
}

/// Logs export failures, queue overflows and the recovery from failures, at most once per
/// [`LOG_INTERVAL`], saying how much went unlogged in between.
#[derive(Default)]
struct ProblemLog {
    last_logged: Option<Instant>,
    /// Failed exports and spans dropped since the last line.
    failures: u64,
    lost: u64,
    failing: bool,
}

impl ProblemLog {
    fn due(&self) -> bool {
        self.last_logged
            .is_none_or(|logged| logged.elapsed() >= LOG_INTERVAL)
    }

    fn failed(
        &mut self,
        endpoint: &str,
        error: &dyn std::fmt::Display,
        spans: u64,
        overflowed: u64,
    ) {
        self.failing = true;
        self.failures += 1;
        self.lost += spans + overflowed;
        if self.due() {
            tracing::warn!(
                endpoint,
                %error,
                failed_exports = self.failures,
                spans_lost = self.lost,
                "span export failed; requests are unaffected (next report in a minute at most)"
            );
            self.logged();
        }
    }

    fn exported(&mut self, endpoint: &str, overflowed: u64) {
        self.lost += overflowed;
        if !self.due() {
            return;
        }
        if self.failing {
            tracing::info!(endpoint, spans_lost = self.lost, "span export works again");
        } else if self.lost > 0 {
            tracing::warn!(
                endpoint,
                spans_lost = self.lost,
                "span export queue full: spans dropped; requests are unaffected"
            );
        } else {
            return;
        }
        self.failing = false;
        self.logged();
    }

    fn logged(&mut self) {
        self.last_logged = Some(Instant::now());
        self.failures = 0;
        self.lost = 0;
    }
}
