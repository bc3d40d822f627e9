//! The traffic listeners: HTTP/1.1 and HTTP/2 (prior knowledge, h2c) on the same socket, each
//! request served on the snapshot current when it arrived, graceful shutdown that lets
//! in-flight requests finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::pipeline;
use crate::snapshot::Snapshot;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections on `listener` until `shutdown` flips, then waits up to `grace` for the
/// open connections to finish their in-flight requests.
pub(crate) async fn serve(
    listener: TcpListener,
    name: String,
    snapshot: Arc<ArcSwap<Snapshot>>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper silently disables its header-read timeout: a client trickling
    // headers would hold a connection forever.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly instead of spinning.
                    tracing::warn!(listener = %name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let snapshot = snapshot.clone();
        let service = service_fn(move |request| {
            // One snapshot per request, kept to the end: a reload never changes a request
            // half-way through.
            let current = snapshot.load_full();
            async move { Ok::<_, Infallible>(pipeline::handle(current, request, peer).await) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let active = metrics::gauge!(crate::metrics::ACTIVE_CONNECTIONS);
        active.increment(1.0);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            active.decrement(1.0);
        });
    }
    drop(listener);
    tracing::info!(listener = %name, "stopped accepting; draining connections");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(listener = %name, grace_ms = grace.as_millis() as u64, "grace period over; closing remaining connections");
    }
}

/// Binds a listener, reporting the address on failure.
pub(crate) async fn bind(address: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
