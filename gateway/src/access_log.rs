//! The access log: one JSON line per request, written by a dedicated thread so a slow disk
//! never slows a request. When the writer falls behind, lines are dropped and counted
//! (`wasmgate_access_log_dropped_total`) rather than blocking traffic.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, SystemTime};

use crate::config::{AccessLogSettings, AccessLogTarget};

/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 16 * 1024;

/// How long the writer lets lines gather after writing a batch. Waking it for every line costs
/// a futex wake and a context switch per request (measured: it halved throughput on 2 cores);
/// this bounds the wake-ups to 200 a second, and a line's delay to 5 ms.
const GATHER: Duration = Duration::from_millis(5);

/// What one access log line says about a request.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    /// When the request head arrived.
    pub time: Option<SystemTime>,
    /// The request id.
    pub request_id: &'a str,
    /// The W3C trace id.
    pub trace_id: &'a str,
    /// The client's IP address.
    pub client_ip: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The matched route's id (`None`: no route matched).
    pub route: Option<&'a str>,
    /// The path the client asked for.
    pub path: &'a str,
    /// The status sent.
    pub status: u16,
    /// Request body bytes (content-length, or the buffered body's size).
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// From request head to response sent.
    pub duration: Duration,
    /// The backend call, when there was one.
    pub integration: Option<Duration>,
    /// Time spent in plugin calls.
    pub plugins: Duration,
    /// The authenticated principal, when an authorizer set `auth.principal`.
    pub principal: Option<&'a str>,
    /// The API key id, when the key plugin set `api-key.id`.
    pub api_key_id: Option<&'a str>,
    /// The gateway response type, when the gateway answered itself.
    pub gateway_response: Option<&'a str>,
}

/// An open access log.
pub struct AccessLog {
    lines: SyncSender<String>,
    fields: Vec<&'static str>,
}

impl AccessLog {
    /// Opens the log `settings` describe (`None` when disabled) and starts its writer thread.
    pub fn open(settings: &AccessLogSettings) -> std::io::Result<Option<Self>> {
        if !settings.enabled {
            return Ok(None);
        }
        let out: Box<dyn Write + Send> = match &settings.target {
            AccessLogTarget::Stdout => Box::new(std::io::stdout()),
            AccessLogTarget::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        };
        let (lines, queue) = std::sync::mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("wasmgate-access-log".into())
            .spawn(move || write_lines(queue, out))?;
        Ok(Some(AccessLog {
            lines,
            fields: settings.fields.clone(),
        }))
    }

    /// Queues the line for `entry` (never blocks).
    pub fn record(&self, entry: &Entry<'_>) {
        let line = self.render(entry);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.lines.try_send(line)
        {
            metrics::counter!(crate::metrics::ACCESS_LOG_DROPPED_TOTAL).increment(1);
        }
    }

    fn render(&self, e: &Entry<'_>) -> String {
        let millis = |d: Duration| (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        let mut line = serde_json::Map::with_capacity(self.fields.len());
        for field in &self.fields {
            let value = match *field {
                "time" => e
                    .time
                    .map(|t| humantime::format_rfc3339_millis(t).to_string())
                    .into(),
                "request_id" => e.request_id.into(),
                "trace_id" => e.trace_id.into(),
                "client_ip" => e.client_ip.into(),
                "method" => e.method.into(),
                "route" => e.route.into(),
                "path" => e.path.into(),
                "status" => e.status.into(),
                "bytes_in" => e.bytes_in.into(),
                "bytes_out" => e.bytes_out.into(),
                "duration_ms" => millis(e.duration).into(),
                "integration_ms" => e.integration.map(millis).into(),
                "plugin_ms" => millis(e.plugins).into(),
                "principal" => e.principal.into(),
                "api_key_id" => e.api_key_id.into(),
                "gateway_response" => e.gateway_response.into(),
                _ => continue,
            };
            line.insert((*field).to_owned(), value);
        }
        let mut text = serde_json::Value::Object(line).to_string();
        text.push('\n');
        text
    }
}

/// Writes queued lines in batches: each batch is one `write` of whole lines (so two writers
/// appending to one file across a reload never interleave within a line), flushed when the
/// queue runs dry; a writer that emptied the queue waits [`GATHER`] for the next batch to build
/// up (one that did not keeps writing).
fn write_lines(queue: Receiver<String>, mut out: Box<dyn Write + Send>) {
    let mut batch = String::new();
    while let Ok(first) = queue.recv() {
        batch.push_str(&first);
        let mut ran_dry = false;
        while batch.len() < 64 * 1024 {
            match queue.try_recv() {
                Ok(line) => batch.push_str(&line),
                Err(_) => {
                    ran_dry = true;
                    break;
                }
            }
        }
        if out
            .write_all(batch.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            metrics::counter!(crate::metrics::ACCESS_LOG_DROPPED_TOTAL).increment(1);
        }
        batch.clear();
        if ran_dry {
            std::thread::sleep(GATHER);
        }
    }
}
