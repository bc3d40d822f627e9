//! Running the real `wasmgate` binary in tests: spawn it on a config and wait for readiness
//! (the lines announcing the bound addresses), then talk to it over raw HTTP/1.1.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `wasmgate run` process.
pub struct Spawned {
    /// The process.
    pub child: Child,
    /// The first traffic listener's `host:port`.
    pub traffic: String,
    /// Every traffic listener as announced: scheme (`http`, `https`) and `host:port`.
    pub listeners: Vec<(String, String)>,
    /// The admin listener's `host:port`.
    pub admin: String,
    /// The lines the process logs after it started serving.
    pub log: std::sync::mpsc::Receiver<String>,
}

/// Waits up to `limit` for a logged line containing `needle`; `false` if none came.
pub fn wait_for_log(
    log: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    limit: std::time::Duration,
) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match log.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Starts `wasmgate run -c config` and returns once both listeners are announced.
pub fn spawn(config: &Path) -> Spawned {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args(["run", "-c"])
        .arg(config)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wasmgate");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let (mut listeners, mut admin) = (Vec::new(), None);
    // The admin line comes after every listener's.
    while admin.is_none() {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("read stderr");
        assert_ne!(read, 0, "wasmgate exited before serving");
        if let Some((_, url)) = line.split_once(" serving on ") {
            let url = url.split_whitespace().next().expect("a listener URL");
            let (scheme, address) = url.split_once("://").expect("scheme://address");
            listeners.push((scheme.to_owned(), address.to_owned()));
        } else if let Some((_, rest)) = line.split_once("admin on http://") {
            admin = Some(rest.trim().to_owned());
        }
    }
    // Keep draining stderr so the gateway never blocks on a full pipe; tests may read it.
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    Spawned {
        child,
        traffic: listeners.first().expect("a traffic listener").1.clone(),
        listeners,
        admin: admin.expect("admin address"),
        log,
    }
}

/// Sends a raw request over a fresh connection and returns the raw response.
pub fn send(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.write_all(request.as_bytes()).expect("write request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
}

/// `GET path` with `connection: close`.
pub fn get(address: &str, path: &str) -> String {
    send(
        address,
        &format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"),
    )
}

/// Sends a signal (`-TERM`, `-HUP`) to the process.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {name} failed");
}
