//! The load generator: one `wrk` run with fixed threads, connections and duration, its output
//! parsed into a [`LoadResult`].

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
    /// Open connections, kept alive (`-c`).
    pub connections: usize,
    /// Run length (`-d`).
    pub duration: Duration,
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
    /// Socket errors: connect + read + write + timeout.
    pub socket_errors: u64,
}

impl LoadResult {
    /// Failed requests: non-2xx/3xx responses plus socket errors.
    pub fn failures(&self) -> u64 {
        self.non_success + self.socket_errors
    }
}

/// Runs wrk against `http://address<path>` with `script` (a wrk Lua file setting the method,
/// headers and body) and waits for it.
pub fn run(
    settings: LoadSettings,
    address: SocketAddr,
    path: &str,
    script: &Path,
) -> anyhow::Result<LoadResult> {
    let mut command = children::command("wrk");
    command
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.duration.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(format!("http://{address}{path}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, stdout, stderr) = ChildProcess::spawn("wrk", command)?.wait_with_output()?;
    if !status.success() {
        bail!("wrk failed ({status}): {stderr}");
    }
    parse(&stdout).with_context(|| format!("unexpected wrk output:\n{stdout}{stderr}"))
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
