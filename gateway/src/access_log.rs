//! The access log: one JSON line per request, written by a dedicated thread so a slow disk
//! never slows a request. When the writer falls behind, lines are dropped and counted
//! (`wasmgate_access_log_dropped_total`) rather than blocking traffic.

use std::time::{Duration, SystemTime};

use crate::config::{AccessLogSettings, AccessLogTarget};
use crate::line_writer::LineWriter;

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
    /// The upstream the request was sent to (`null` when no backend was called).
    pub upstream: Option<&'a str>,
    /// On a route with a canary: whether the request went to it.
    pub canary: Option<bool>,
    /// The stage that served the request (`prod`, `prod/canary`), when the config has stages.
    pub stage: Option<&'a str>,
}

/// An open access log.
pub struct AccessLog {
    lines: LineWriter,
    fields: Vec<&'static str>,
}

impl AccessLog {
    /// Opens the log `settings` describe (`None` when disabled) and starts its writer thread.
    pub fn open(settings: &AccessLogSettings) -> std::io::Result<Option<Self>> {
        if !settings.enabled {
            return Ok(None);
        }
        const THREAD: &str = "wasmgate-access-log";
        const DROPPED: &str = crate::metrics::ACCESS_LOG_DROPPED_TOTAL;
        let lines = match &settings.target {
            AccessLogTarget::Stdout => {
                LineWriter::start(THREAD, Box::new(std::io::stdout()), DROPPED)?
            }
            AccessLogTarget::File(path) => LineWriter::append_to(path, THREAD, DROPPED)?,
        };
        Ok(Some(AccessLog {
            lines,
            fields: settings.fields.clone(),
        }))
    }

    /// Queues the line for `entry` (never blocks).
    pub fn record(&self, entry: &Entry<'_>) {
        self.lines.send(self.render(entry));
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
                "upstream" => e.upstream.into(),
                "canary" => e.canary.into(),
                "stage" => e.stage.into(),
                _ => continue,
            };
            line.insert((*field).to_owned(), value);
        }
        let mut text = serde_json::Value::Object(line).to_string();
        text.push('\n');
        text
    }
}
