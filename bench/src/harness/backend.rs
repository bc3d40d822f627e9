//! The backend every scenario ends at: a minimal hyper HTTP/1.1 server on loopback answering
//! `/small` and `/json` (see [`super::workload`]) from memory. It runs in its own process
//! (`harness backend`), so its CPU is never counted as the proxy's.

use std::convert::Infallible;
use std::io::Write as _;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::workload::{SMALL_BODY, catalogue_json};

/// The line the backend prints once it listens: `backend listening on 127.0.0.1:PORT`.
pub const READY_PREFIX: &str = "backend listening on ";

/// Serves on 127.0.0.1 (an OS-chosen port) with `threads` worker threads until killed, after
/// printing [`READY_PREFIX`] and the address on stdout.
pub fn run(threads: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("backend runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("backend bind")?;
        let address = listener.local_addr()?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{READY_PREFIX}{address}")?;
        stdout.flush()?;
        let json = Bytes::from(catalogue_json());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let json = json.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(request, json.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn answer(
    request: Request<Incoming>,
    json: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    // Read (and drop) the request body, as a real service would.
    let _ = request.into_body().collect().await;
    let (status, content_type, body) = match path.as_str() {
        "/small" => (StatusCode::OK, "text/plain", Bytes::from_static(SMALL_BODY)),
        "/json" => (StatusCode::OK, "application/json", json),
        _ => (StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"")),
    };
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body))
        .unwrap_or_default();
    Ok(response)
}
