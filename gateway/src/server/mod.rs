//! The traffic listeners: plain HTTP (HTTP/1.1 and h2c on the same socket) or HTTPS (rustls,
//! ALPN), each request served on the snapshot current when it arrived, and the protective
//! limits that keep slow, idle or too many clients from holding the gateway. On shutdown a
//! listener stops accepting and lets in-flight requests finish.

mod connection;
mod redirect;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;

use crate::config::{Listener, ListenerTls};
use crate::snapshot::Snapshot;

/// What a listener was started with; settings that can change on reload (TLS certificates,
/// timeouts, header limits) are read from the current snapshot for each new connection.
#[derive(Clone)]
pub(crate) struct ListenerSpec {
    /// The listener's name, for logs and metrics.
    pub(crate) name: Arc<str>,
    /// The TLS it was started with: whether it serves TLS is fixed until a restart, and
    /// this is what it serves should a reload drop the `tls` table.
    pub(crate) tls_at_start: Option<ListenerTls>,
    /// A redirect-only listener: the HTTPS port it sends clients to.
    pub(crate) redirect_https_port: Option<u16>,
    /// The most connections open at once.
    pub(crate) max_connections: usize,
}

impl ListenerSpec {
    /// The spec of `listener` in a freshly loaded config.
    pub(crate) fn new(listener: &Listener, max_connections: usize) -> Self {
        ListenerSpec {
            name: listener.name.as_str().into(),
            tls_at_start: listener.tls.clone(),
            redirect_https_port: listener.redirect_https_port,
            max_connections,
        }
    }
}

/// Accepts connections on `listener` until `shutdown` flips, then waits up to `grace` for the
/// open connections to finish their in-flight requests.
pub(crate) async fn serve(
    listener: TcpListener,
    spec: ListenerSpec,
    snapshot: Arc<ArcSwap<Snapshot>>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let spec = Arc::new(spec);
    let slots = Arc::new(Semaphore::new(spec.max_connections));
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly instead of spinning.
                    tracing::warn!(listener = %spec.name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: cheaper for everyone than holding it unanswered in a queue.
            metrics::counter!(
                crate::metrics::CONNECTIONS_REFUSED_TOTAL,
                "listener" => spec.name.to_string(),
                "reason" => "max_connections"
            )
            .increment(1);
            tracing::debug!(listener = %spec.name, %peer, "at max_connections; closing");
            drop(stream);
            continue;
        };
        let accepted = connection::Accepted {
            stream,
            peer,
            spec: spec.clone(),
            snapshot: snapshot.clone(),
            shutdown: shutdown.clone(),
        };
        connections.spawn(async move {
            accepted.serve().await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(listener = %spec.name, "stopped accepting; draining connections");
    connections.close();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(listener = %spec.name, grace_ms = grace.as_millis() as u64, "grace period over; closing remaining connections");
    }
}

/// Binds a listener, reporting the address on failure.
pub(crate) async fn bind(address: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
