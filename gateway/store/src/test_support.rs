//! A throwaway `redis-server` for tests, enabled by the `test-support` feature:
//!
//! ```toml
//! [dev-dependencies]
//! wasmgate-store = { workspace = true, features = ["test-support"] }
//! ```
//!
//! ```no_run
//! use wasmgate_store::test_support::RedisServer;
//! let mut redis = RedisServer::start(); // ready to answer when this returns
//! let url = redis.url(); // redis://127.0.0.1:<free port>
//! redis.pause(); // SIGSTOP: connections stay open, nothing is answered (a hung server)
//! redis.resume();
//! redis.stop(); // killed: clients see it vanish
//! redis.restart(); // back on the same port, empty
//! // Dropping it kills the server.
//! ```
//!
//! The server keeps nothing on disk (`--save "" --appendonly no`) and listens on 127.0.0.1
//! only. If `redis-server` is not on `PATH`, the first start runs
//! `apt-get install -y redis-server` (Debian, as root) and says so on stderr.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a server may take to answer its first `PING`.
const READY_DEADLINE: Duration = Duration::from_secs(20);
/// How many fresh ports a start tries when another process takes the one picked.
const PORT_ATTEMPTS: u32 = 5;

/// A `redis-server` child process on a free local port, killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// The server's working directory and log, removed when dropped.
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port and returns once it answers `PING`.
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing and cannot be installed, or never becomes ready (the
    /// message includes the end of its log).
    pub fn start() -> RedisServer {
        let binary = redis_server_binary();
        let mut last_failure = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let dir =
                std::env::temp_dir().join(format!("wasmgate-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
            let mut server = RedisServer {
                port,
                child: None,
                dir,
            };
            match server.spawn(binary) {
                Ok(()) => return server,
                // Most likely another process took the port between our check and the bind.
                Err(failure) => last_failure = failure,
            }
        }
        panic!("redis-server did not start after {PORT_ATTEMPTS} attempts: {last_failure}");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on (the same across [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (`SIGKILL`, as a crash would) and waits for it to exit. Open
    /// connections see it vanish; new ones are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Suspends the server (`SIGSTOP`): connections stay open but nothing is answered, as with
    /// a hung server or a network partition, until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Resumes a [paused](Self::pause) server (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server is not running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        assert!(
            status.as_ref().is_ok_and(|s| s.success()),
            "kill -{signal} redis-server: {status:?}"
        );
    }

    /// Stops the server if it runs, then starts a new, empty one on the same port and returns
    /// once it answers `PING`.
    ///
    /// # Panics
    ///
    /// When the server does not come back (for instance, another process took the port).
    pub fn restart(&mut self) {
        self.stop();
        if let Err(failure) = self.spawn(redis_server_binary()) {
            panic!(
                "redis-server did not restart on port {}: {failure}",
                self.port
            );
        }
    }

    /// Spawns the server on `self.port` and waits until it answers, or says why it did not.
    fn spawn(&mut self, binary: &Path) -> Result<(), String> {
        let log = self.dir.join("redis.log");
        let child = Command::new(binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_DEADLINE;
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("it exited with {status}; log:\n{}", log_tail(&log)));
            }
            if answers_ping(self.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!(
                    "no PONG on port {} within {READY_DEADLINE:?}; log:\n{}",
                    self.port,
                    log_tail(&log)
                ));
            }
            // Polling with a short, growing pause until the deadline.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-server` from `PATH`, installed with apt the first time if missing.
fn redis_server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(found) = find_on_path("redis-server") {
            return found;
        }
        eprintln!(
            "redis-server is not on PATH: installing it with `apt-get install -y redis-server`"
        );
        let installed = Command::new("apt-get")
            .args(["install", "-y", "redis-server"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
        match (installed, find_on_path("redis-server")) {
            (Ok(status), Some(found)) if status.success() => found,
            (outcome, _) => panic!(
                "redis-server is needed by the Redis store tests and could not be installed \
                 ({outcome:?}); install it (e.g. `apt-get install redis-server`) and put it on PATH"
            ),
        }
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A port that was free a moment ago: bound to port 0, then released.
fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("cannot find a free local port: {e}"))
}

/// Whether a Redis server on `port` answers `PING` with `+PONG` right now.
fn answers_ping(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
