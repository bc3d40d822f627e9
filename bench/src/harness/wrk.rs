//! The load generator: one `wrk` run with fixed threads, connections and duration, over HTTP or
//! HTTPS, keeping connections alive or opening one per request; its output parsed into a
//! [`LoadResult`]. Also a one-request wrk run that prints the response ([`probe`]), for the
//! HTTPS cells, which the harness cannot probe with a plain socket.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::children::{self, ChildProcess};

/// How wrk is run: the same for every scenario.
#[derive(Debug, Clone, Copy)]
pub struct LoadSettings {
    /// wrk threads (`-t`).
    pub threads: usize,
    /// Open connections (`-c`).
    pub connections: usize,
    /// Run length (`-d`).
    pub duration: Duration,
}

/// The protocol wrk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP/1.1.
    Http,
    /// HTTP/1.1 over TLS (wrk's OpenSSL client, no certificate verification).
    Https,
}

/// How wrk uses its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// Kept alive: each connection carries request after request (wrk's default).
    KeepAlive,
    /// `Connection: close` on every request: the server closes after answering, and wrk
    /// reconnects (over HTTPS: handshakes again) before the next request on that slot.
    PerRequest,
}

/// Where one wrk run sends its requests, and how.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// HTTP or HTTPS.
    pub scheme: Scheme,
    /// The listener.
    pub address: SocketAddr,
    /// Keep-alive or a connection per request.
    pub connections: Connections,
}

impl Endpoint {
    /// `http://127.0.0.1:8080/small`, or `https://localhost:8443/small`: wrk sends the URL's
    /// host as the TLS server name (SNI), and an IP address is not a valid one (RFC 6066 §3) —
    /// rustls ignores it and logs a warning, which the gateway writes out on every handshake,
    /// at a cost. `localhost` is what a real client would send, and resolves to the same
    /// loopback address (wrk tries each address `localhost` resolves to until one connects).
    pub fn url(&self, path: &str) -> String {
        match self.scheme {
            Scheme::Http => format!("http://{}{path}", self.address),
            Scheme::Https => format!("https://localhost:{}{path}", self.address.port()),
        }
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadResult {
    /// Requests completed.
    pub requests: u64,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th-percentile latency, µs.
    pub p99_us: f64,
    /// Responses with a status outside 2xx/3xx.
    pub non_success: u64,
    /// Socket errors: connect (which includes failed TLS handshakes) + read + write + timeout.
    pub socket_errors: u64,
}

impl LoadResult {
    /// Failed requests: non-2xx/3xx responses plus socket errors.
    pub fn failures(&self) -> u64 {
        self.non_success + self.socket_errors
    }

    /// Whether no response was a success: a proxy (or a WAF) refusing every request answers
    /// fast, so such a run measures nothing. wrk counts refused responses in `requests` too.
    pub fn none_succeeded(&self) -> bool {
        self.requests > 0 && self.non_success >= self.requests
    }
}

/// Runs wrk against `endpoint` and `path` with `script` (a wrk Lua file setting the method,
/// headers and body) and waits for it.
pub fn run(
    settings: LoadSettings,
    endpoint: Endpoint,
    path: &str,
    script: &Path,
) -> anyhow::Result<LoadResult> {
    let mut command = children::command("wrk");
    command
        .args(arguments(settings, endpoint, path, script))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, stdout, stderr) = ChildProcess::spawn("wrk", command)?.wait_with_output()?;
    if !status.success() {
        bail!("wrk failed ({status}): {stderr}");
    }
    parse(&stdout).with_context(|| format!("unexpected wrk output:\n{stdout}{stderr}"))
}

/// wrk's command line for one run.
fn arguments(settings: LoadSettings, endpoint: Endpoint, path: &str, script: &Path) -> Vec<String> {
    let mut arguments = vec![
        format!("-t{}", settings.threads),
        format!("-c{}", settings.connections),
        format!("-d{}s", settings.duration.as_secs().max(1)),
        "--latency".to_owned(),
    ];
    if endpoint.connections == Connections::PerRequest {
        arguments.extend(["-H".to_owned(), "Connection: close".to_owned()]);
    }
    arguments.extend([
        "-s".to_owned(),
        script.display().to_string(),
        endpoint.url(path),
    ]);
    arguments
}

/// The first response wrk got, as [`probe`] saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probed {
    /// The status code.
    pub status: u16,
    /// The header block, one `name: value` line per header (as wrk's Lua table gives them,
    /// in no particular order).
    pub head: String,
    /// The body, line breaks replaced by spaces.
    pub body: String,
}

/// Lines a probe script adds to a workload's script: print the first response, then stop.
const PROBE_CALLBACK: &str = r#"
response = function(status, headers, body)
  io.write("probe status ", status, "\n")
  for name, value in pairs(headers) do
    io.write("probe header ", name, ": ", value, "\n")
  end
  io.write("probe body ", (body:gsub("[\r\n]", " ")), "\n")
  wrk.thread:stop()
end
"#;

/// Sends one request the way the load does (`workload_script` is the workload's wrk script,
/// written to `dir`) and returns the response. Takes a second: wrk
/// always runs for its whole `-d`.
pub fn probe(
    endpoint: Endpoint,
    path: &str,
    workload_script: &str,
    dir: &Path,
) -> anyhow::Result<Probed> {
    let script = dir.join(format!("probe-{}.lua", std::process::id()));
    std::fs::write(&script, format!("{workload_script}{PROBE_CALLBACK}"))?;
    let settings = LoadSettings {
        threads: 1,
        connections: 1,
        duration: Duration::from_secs(1),
    };
    let mut command = children::command("wrk");
    command
        .args(arguments(settings, endpoint, path, &script))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, stdout, stderr) = ChildProcess::spawn("wrk probe", command)?.wait_with_output()?;
    let _ = std::fs::remove_file(&script);
    if !status.success() {
        bail!("wrk failed ({status}): {stderr}");
    }
    parse_probe(&stdout).with_context(|| {
        format!(
            "no response from {} (wrk said:\n{stdout}{stderr})",
            endpoint.url(path)
        )
    })
}

/// The `probe status` and `probe header` lines of a probe's output.
fn parse_probe(output: &str) -> Option<Probed> {
    let mut probed: Option<Probed> = None;
    for line in output.lines() {
        if let Some(status) = line.strip_prefix("probe status ") {
            probed = Some(Probed {
                status: status.trim().parse().ok()?,
                ..Probed::default()
            });
        } else if let Some(probed) = probed.as_mut() {
            if let Some(header) = line.strip_prefix("probe header ") {
                probed.head.push_str(header);
                probed.head.push('\n');
            } else if let Some(body) = line.strip_prefix("probe body ") {
                probed.body = body.to_owned();
            }
        }
    }
    probed
}

/// `wrk` as installed, e.g. `wrk 4.1.0 [epoll] …`.
pub fn version() -> Option<String> {
    let output = std::process::Command::new("wrk").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines().next().map(|l| l.trim().to_owned())
}

/// Parses wrk's `--latency` report.
pub fn parse(output: &str) -> anyhow::Result<LoadResult> {
    let mut result = LoadResult::default();
    let (mut saw_requests, mut saw_p50, mut saw_p99) = (false, false, false);
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [count, "requests", "in", ..] => {
                result.requests = count.parse().context("request count")?;
                saw_requests = true;
            }
            ["Requests/sec:", rate] => {
                result.requests_per_second = rate.parse().context("requests/sec")?;
            }
            ["50%", latency] => {
                result.p50_us = parse_latency_us(latency)?;
                saw_p50 = true;
            }
            ["99%", latency] => {
                result.p99_us = parse_latency_us(latency)?;
                saw_p99 = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                result.non_success = count.parse().context("non-2xx count")?;
            }
            ["Socket", "errors:", rest @ ..] => {
                // `connect 0, read 0, write 0, timeout 0`
                result.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if !(saw_requests && saw_p50 && saw_p99) {
        bail!("missing the request count or the latency distribution");
    }
    Ok(result)
}

/// `560.00us`, `1.02ms`, `2.00s`, `1.50m` → µs.
fn parse_latency_us(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("latency without a unit: {text}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("latency: {text}"))?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => bail!("latency unit `{unit}` in {text}"),
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests;
