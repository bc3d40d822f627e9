//! Loopback plumbing: waiting for a child to be ready, one-shot HTTP/1.1 exchanges (probes, the
//! admin API) and a free port for nginx.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::children::ChildProcess;

/// An HTTP response read to the end.
#[derive(Debug)]
pub struct Exchanged {
    /// The status code.
    pub status: u16,
    /// The header block as text.
    pub head: String,
    /// The body.
    pub body: String,
}

/// Sends `request` (a complete HTTP/1.1 request with `connection: close`) and reads the
/// response to the end of the stream.
pub fn exchange(address: SocketAddr, request: &str) -> anyhow::Result<Exchanged> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the response from {address}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line from {address}: {head:?}"))?;
    Ok(Exchanged {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

/// `GET path` with `connection: close`.
pub fn get(address: SocketAddr, path: &str) -> anyhow::Result<Exchanged> {
    exchange(
        address,
        &format!("GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"),
    )
}

/// Waits until `file` has a line starting with `prefix` and returns the rest of that line;
/// fails early if `child` exits, and after `timeout`.
pub fn wait_for_line(
    child: &mut ChildProcess,
    file: &Path,
    prefix: &str,
    timeout: Duration,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(rest) = find_line(file, prefix) {
            return Ok(rest);
        }
        if let Some(status) = child.exited() {
            bail!("{} exited ({status}) before it was ready", file.display());
        }
        if Instant::now() > deadline {
            bail!("no `{prefix}` in {} after {timeout:?}", file.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The rest of the first complete line of `file` that contains `prefix`, if one does yet.
///
/// A line counts once its newline is written: a child writing to unbuffered stderr may write a
/// line in pieces (`admin on http://`, then the address), and the harness must not read the
/// first piece as the whole line.
pub fn find_line(file: &Path, prefix: &str) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    first_complete_line(&String::from_utf8_lossy(&bytes), prefix)
}

fn first_complete_line(text: &str, prefix: &str) -> Option<String> {
    // What follows the last newline is a line still being written.
    let (complete, _unfinished) = text.rsplit_once('\n')?;
    complete.lines().find_map(|line| {
        let (_, rest) = line.split_once(prefix)?;
        Some(rest.trim().to_owned())
    })
}

/// Waits until `address` accepts connections (or `child` exits, or `timeout`).
pub fn wait_for_port(
    child: &mut ChildProcess,
    address: SocketAddr,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.exited() {
            bail!("the process for {address} exited ({status}) before listening");
        }
        if Instant::now() > deadline {
            bail!("nothing listens on {address} after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// A loopback port free right now (for servers that cannot report the port they bound).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::first_complete_line;

    #[test]
    fn a_line_counts_only_once_its_newline_is_written() {
        let text = "wasmgate: listener `bench` serving on http://127.0.0.1:1\n\
                            wasmgate: admin on http://";
        assert_eq!(first_complete_line(text, "admin on http://"), None);
        assert_eq!(
            first_complete_line(text, "serving on http://").as_deref(),
            Some("127.0.0.1:1")
        );
        let done = "wasmgate: admin on http://127.0.0.1:2\n";
        assert_eq!(
            first_complete_line(done, "admin on http://").as_deref(),
            Some("127.0.0.1:2")
        );
    }
}
