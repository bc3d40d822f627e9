//! A `wasmgate run` process under test: started on a generated config, its listener (plain and
//! HTTPS) and admin addresses read from its stderr, its admin API queried for the config
//! generation and the open-connection gauge.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;

use super::children::{self, ChildProcess};
use super::net;

/// How long a gateway may take to start (compiling plugins on a cold cache is the slow part).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A running gateway process.
pub struct GatewayProcess {
    process: ChildProcess,
    /// The (first) plain HTTP traffic listener.
    pub address: SocketAddr,
    /// The (first) HTTPS traffic listener, when the config has one.
    pub tls_address: Option<SocketAddr>,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The config file it serves (rewritten by the reload scenario).
    pub config_path: PathBuf,
    /// Its stderr (startup lines, then warnings and errors).
    pub log_path: PathBuf,
}

impl GatewayProcess {
    /// Writes `config` to `dir/<name>.toml` and runs `binary run -c` on it with `threads`
    /// Tokio worker threads, logging at `warn` to `dir/<name>.log`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        name: &str,
        config: &str,
        threads: usize,
    ) -> anyhow::Result<Self> {
        let config_path = dir.join(format!("{name}.toml"));
        std::fs::write(&config_path, config)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let log_path = dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut command = children::command(binary);
        command
            .arg("run")
            .arg("-c")
            .arg(&config_path)
            .env("WASMGATE_LOG", "warn")
            .env("NO_COLOR", "1")
            .env("TOKIO_WORKER_THREADS", threads.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let mut process = ChildProcess::spawn(&format!("gateway `{name}`"), command)?;
        let address =
            net::wait_for_line(&mut process, &log_path, "serving on http://", START_TIMEOUT)
                .with_context(|| {
                    format!("gateway `{name}` did not start; see {}", log_path.display())
                })?;
        let admin = net::wait_for_line(&mut process, &log_path, "admin on http://", START_TIMEOUT)?;
        // Every listener's line comes before the admin's.
        let tls_address = net::find_line(&log_path, "serving on https://")
            .map(|a| a.parse().context("HTTPS listener address"))
            .transpose()?;
        Ok(GatewayProcess {
            process,
            address: address.parse().context("listener address")?,
            tls_address,
            admin: admin.parse().context("admin address")?,
            config_path,
            log_path,
        })
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The config generation it serves (from `GET /config` on the admin listener).
    pub fn generation(&self) -> anyhow::Result<u64> {
        super::reload::generation(self.admin)
    }

    /// The `wasmgate_active_connections` gauge (from `GET /metrics` on the admin listener).
    pub fn active_connections(&self) -> anyhow::Result<u64> {
        let response = net::get(self.admin, "/metrics")?;
        parse_gauge(&response.body, "wasmgate_active_connections")
            .context("no wasmgate_active_connections in /metrics")
    }
}

/// Warnings and errors the gateway logged: how many, and up to `limit` distinct ones (the
/// message without its timestamp).
pub fn logged_problems(log_path: &Path, limit: usize) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(log_path).unwrap_or_default();
    let mut count = 0;
    let mut distinct: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = strip_ansi(line);
        let Some(at) = line.find(" WARN ").or_else(|| line.find(" ERROR ")) else {
            continue;
        };
        count += 1;
        // Drop the timestamp and the per-request fields that make every line unique.
        let message = line[at..].trim();
        let message = message
            .split(" request_id=")
            .next()
            .unwrap_or(message)
            .to_owned();
        if distinct.len() < limit && !distinct.contains(&message) {
            distinct.push(message);
        }
    }
    (count, distinct)
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // `ESC [ … letter`
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `text` next to `path` and renames it over `path`, as an editor does.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn parse_gauge(metrics: &str, name: &str) -> Option<u64> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            let key = key.split('{').next()?;
            (key == name).then(|| value.parse::<f64>().ok().map(|v| v as u64))?
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn collects_distinct_warnings_without_timestamps_or_request_ids() {
        let dir = std::env::temp_dir().join(format!("wasmgate-bench-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("gateway.log");
        let warn = "2026-11-22T00:05:45.5Z \u{1b}[33m WARN\u{1b}[0m wasmgate::pipeline: plugin exceeded \
                    its 100 ms deadline plugin=\"mapper\" request_id=\"";
        std::fs::write(
            &log,
            format!("wasmgate: listener `bench` serving on http://x\n{warn}a\"\n{warn}b\"\n"),
        )
        .unwrap();
        let (count, distinct) = super::logged_problems(&log, 5);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(count, 2);
        assert_eq!(
            distinct,
            ["WARN wasmgate::pipeline: plugin exceeded its 100 ms deadline plugin=\"mapper\""]
        );
    }

    #[test]
    fn reads_a_gauge_from_prometheus_text() {
        let text = "# TYPE wasmgate_active_connections gauge\nwasmgate_active_connections 10001\n\
                    wasmgate_requests_total{route=\"a\"} 3\n";
        assert_eq!(
            super::parse_gauge(text, "wasmgate_active_connections"),
            Some(10001)
        );
        assert_eq!(super::parse_gauge(text, "missing"), None);
    }
}
