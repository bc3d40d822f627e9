//! The second reference proxy: Debian's haproxy in HTTP mode in front of the same backend, with
//! idle server connections shared between clients (`http-reuse always`), run as the current
//! user from a generated config in the scratch directory, in the foreground (`-db`), on
//! loopback only: one process with as many threads (`nbthread`) as the gateway has worker
//! threads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;

use super::children::{self, ChildProcess};
use super::net;

/// A running haproxy.
pub struct Haproxy {
    process: ChildProcess,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Haproxy {
    /// Where haproxy is installed, if it is.
    pub fn binary() -> Option<PathBuf> {
        [
            "/usr/sbin/haproxy",
            "/usr/bin/haproxy",
            "/usr/local/sbin/haproxy",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    }

    /// `HAProxy version 2.6.12-1+deb12u4 2026/10/17`, as installed.
    pub fn version(binary: &Path) -> Option<String> {
        let output = std::process::Command::new(binary).arg("-v").output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().next()?;
        // Drop the ` - https://haproxy.org/` that follows the version and date.
        Some(line.split(" - ").next().unwrap_or(line).trim().to_owned())
    }

    /// Writes the config to `dir/haproxy/` and starts haproxy with `threads` threads proxying
    /// to `backend`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        backend: SocketAddr,
        threads: usize,
    ) -> anyhow::Result<Self> {
        let root = dir.join("haproxy");
        std::fs::create_dir_all(&root)?;
        let port = net::free_port()?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let config_path = root.join("haproxy.cfg");
        std::fs::write(&config_path, config(backend, address, threads))?;
        let log_path = root.join("stderr.log");
        let mut command = children::command(binary);
        command
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path)?);
        let mut process = ChildProcess::spawn("haproxy", command)?;
        net::wait_for_port(&mut process, address, Duration::from_secs(10))
            .with_context(|| format!("haproxy did not start; see {}", log_path.display()))?;
        Ok(Haproxy { process, address })
    }

    /// Its process ids: one process (its threads are in its `/proc/<pid>/stat`), plus any
    /// child it might have.
    pub fn pids(&self) -> Vec<u32> {
        super::procfs::with_children(self.process.pid())
    }
}

/// The haproxy config: HTTP mode, keep-alive on both sides, idle server connections reused by
/// any client (`http-reuse always`), no logging. No `maxconn`: haproxy derives it from the
/// open-file limit it inherits, whereas a fixed one it cannot reserve descriptors for (two per
/// connection) makes it refuse to start.
pub fn config(backend: SocketAddr, listen: SocketAddr, threads: usize) -> String {
    format!(
        r#"global
    nbthread {threads}

defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend bench
    bind {listen}
    default_backend backend

backend backend
    http-reuse always
    server backend {backend}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        config(
            "127.0.0.1:9001".parse().unwrap(),
            "127.0.0.1:9002".parse().unwrap(),
            2,
        )
    }

    #[test]
    fn the_config_reuses_backend_connections_with_the_gateways_thread_count() {
        let text = sample();
        for line in [
            "nbthread 2",
            "mode http",
            "http-reuse always",
            "bind 127.0.0.1:9002",
            "server backend 127.0.0.1:9001",
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
        assert!(
            !text.contains("\n    log "),
            "haproxy must not log requests"
        );
        assert!(
            !text.contains("maxconn"),
            "haproxy sizes it from the open-file limit"
        );
    }

    #[test]
    fn an_installed_haproxy_accepts_the_config() {
        // Only where haproxy is installed (bench/run installs it); `-c` checks and exits.
        let Some(binary) = Haproxy::binary() else {
            return;
        };
        let dir =
            std::env::temp_dir().join(format!("wasmgate-bench-haproxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, sample()).unwrap();
        let output = std::process::Command::new(binary)
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
