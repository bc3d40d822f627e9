//! Memory: the gateway's RSS at idle with every built-in plugin loaded, and the RSS each idle
//! keep-alive client connection adds (many connections opened, one request each, then left
//! idle; the growth divided by their number).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use super::configs::ConfigContext;
use super::gateway::GatewayProcess;
use super::procfs;
use super::workload::Workload;

/// File descriptors kept free for everything but the idle connections.
const FD_MARGIN: u64 = 512;

/// What the memory measurements found.
#[derive(Debug, Clone)]
pub struct MemoryReport {
    /// RSS right after start (every plugin compiled and initialised), bytes.
    pub rss_started: u64,
    /// RSS after requests through the chain warmed its instance pools, then 1 s idle, bytes.
    pub rss_warm: u64,
    /// Of `rss_warm`, anonymous memory (heap, Wasm instances), bytes.
    pub rss_warm_anon: u64,
    /// Of `rss_warm`, file-backed and shared pages (the binary, mapped compiled plugins), bytes.
    pub rss_warm_file: u64,
    /// Connections asked for.
    pub connections_wanted: usize,
    /// Connections opened (fewer when the file-descriptor limit did not allow them all).
    pub connections_opened: usize,
    /// What the gateway's `wasmgate_active_connections` gauge said with them open.
    pub connections_seen_by_gateway: Option<u64>,
    /// RSS with the connections open and idle, bytes.
    pub rss_with_connections: u64,
    /// Why fewer connections were opened, if they were.
    pub limit_note: Option<String>,
}

impl MemoryReport {
    /// RSS growth per idle connection, bytes.
    pub fn bytes_per_connection(&self) -> f64 {
        self.rss_with_connections.saturating_sub(self.rss_warm) as f64
            / self.connections_opened.max(1) as f64
    }
}

/// Raises this process's open-file limit (inherited by the children started after) so that
/// `connections` fit twice (client and gateway side) plus a margin; returns how many idle
/// connections the limit allows.
pub fn raise_fd_limit(connections: usize) -> usize {
    let wanted = connections as u64 + FD_MARGIN;
    let limit = getrlimit(Resource::Nofile);
    let mut maximum = limit.maximum.unwrap_or(u64::MAX);
    if maximum < wanted {
        // Raising the hard limit needs CAP_SYS_RESOURCE (root); try, and keep what we have.
        let raised = Rlimit {
            current: Some(wanted),
            maximum: Some(wanted),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            maximum = wanted;
        }
    }
    let current = wanted.min(maximum);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(current),
            maximum: Some(maximum),
        },
    );
    let effective = getrlimit(Resource::Nofile).current.unwrap_or(current);
    (effective.saturating_sub(FD_MARGIN) as usize).min(connections)
}

/// Starts a gateway with every built-in plugin, measures it idle, then with `allowed` idle
/// keep-alive connections (of `wanted`).
pub fn measure(
    binary: &Path,
    dir: &Path,
    context: &ConfigContext,
    fragment: &str,
    threads: usize,
    wanted: usize,
    allowed: usize,
) -> anyhow::Result<MemoryReport> {
    let config = context.all_builtins(fragment)?;
    let gateway = GatewayProcess::start(binary, dir, "memory", &config, threads)?;
    std::thread::sleep(Duration::from_secs(1));
    let rss_started = procfs::rss_bytes(gateway.pid())?;
    for _ in 0..(threads * 8) {
        let response =
            super::net::exchange(gateway.address, &Workload::Json.raw_request("bench", true))?;
        if response.status != 200 {
            bail!(
                "warm-up through all built-in plugins answered {}: {}",
                response.status,
                response.body
            );
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let rss_warm = procfs::rss_bytes(gateway.pid())?;
    let (rss_warm_anon, rss_warm_file) = procfs::rss_split(gateway.pid())?;

    let connections = open_idle_connections(gateway.address, allowed)?;
    std::thread::sleep(Duration::from_secs(1));
    let rss_with_connections = procfs::rss_bytes(gateway.pid())?;
    let seen = gateway.active_connections().ok();
    drop(connections);
    let limit_note = (allowed < wanted).then(|| {
        format!("the open-file limit allowed {allowed} of the {wanted} connections asked for")
    });
    Ok(MemoryReport {
        rss_started,
        rss_warm,
        rss_warm_anon,
        rss_warm_file,
        connections_wanted: wanted,
        connections_opened: allowed,
        connections_seen_by_gateway: seen,
        rss_with_connections,
        limit_note,
    })
}

/// Opens `count` connections, sends one `GET /small` on each and reads the answer, and keeps
/// them open (idle, kept alive).
fn open_idle_connections(address: SocketAddr, count: usize) -> anyhow::Result<Vec<TcpStream>> {
    let request = Workload::Small.raw_request("bench", false);
    let mut streams = Vec::with_capacity(count);
    for index in 0..count {
        let mut stream = TcpStream::connect(address)
            .with_context(|| format!("opening idle connection {index}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(request.as_bytes())?;
        read_one_response(&mut stream).with_context(|| format!("connection {index}"))?;
        streams.push(stream);
    }
    Ok(streams)
}

/// Reads one response with a `content-length` body, leaving the connection usable.
fn read_one_response(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut buffer = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            bail!("closed before a full response");
        }
        buffer.extend_from_slice(&chunk[..read]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") {
            bail!("answer was not 200: {head}");
        }
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .context("no content-length")?;
        if buffer.len() >= end + 4 + length {
            return Ok(());
        }
    }
}
