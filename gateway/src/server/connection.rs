//! One client connection: the TLS handshake (bounded by the header read timeout), then
//! HTTP/1.1 or HTTP/2 with the configured limits, closed when idle or when the gateway shuts
//! down (after its in-flight requests).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use http::header::STRICT_TRANSPORT_SECURITY;
use http::{HeaderValue, Request};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{ListenerSpec, redirect};
use crate::config::{GatewaySettings, ListenerTls};
use crate::pipeline::{self, ClientConnection};
use crate::snapshot::Snapshot;
use crate::tls::TlsInfo;

/// Room hyper's HTTP/1 read buffer has beyond `max_header_bytes`, so that the gateway (not
/// hyper) measures the headers and answers an oversized request with its own 431. Requests
/// past even this get hyper's bare 431.
const HEADER_BUFFER_SLACK: usize = 64 * 1024;

/// A connection just accepted, with what it needs to be served.
pub(super) struct Accepted {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) spec: Arc<ListenerSpec>,
    pub(super) snapshot: Arc<ArcSwap<Snapshot>>,
    pub(super) shutdown: watch::Receiver<bool>,
}

impl Accepted {
    /// Serves the connection to its end.
    pub(super) async fn serve(self) {
        let Accepted {
            stream,
            peer,
            spec,
            snapshot,
            shutdown,
        } = self;
        let _ = stream.set_nodelay(true);
        let active = metrics::gauge!(crate::metrics::ACTIVE_CONNECTIONS);
        active.increment(1.0);
        let current = snapshot.load_full();
        let limits = Limits::from(&current.config.gateway);
        let tls = listener_tls(&spec, &current);
        drop(current);
        let served = Served {
            spec,
            snapshot,
            shutdown,
        };
        match tls {
            None => {
                let connection = ClientConnection::new(peer, None, false);
                served
                    .http(TokioIo::new(stream), connection, None, &limits)
                    .await;
            }
            // Boxed: the handshake's and the TLS stream's state is kilobytes, which a plain
            // connection's task would otherwise carry too.
            Some(tls) => Box::pin(served.https(stream, peer, tls, &limits)).await,
        }
        active.decrement(1.0);
    }
}

/// The listener's TLS in `current` (certificates renewed since the start), or what it was
/// started with; `None` for a plain listener.
fn listener_tls(spec: &ListenerSpec, current: &Snapshot) -> Option<ListenerTls> {
    let at_start = spec.tls_at_start.as_ref()?;
    let now = current
        .config
        .listeners
        .iter()
        .find(|l| *l.name == *spec.name)
        .and_then(|l| l.tls.clone());
    Some(now.unwrap_or_else(|| at_start.clone()))
}

fn handshake_failed(spec: &ListenerSpec, peer: SocketAddr, reason: &'static str) {
    tracing::debug!(listener = %spec.name, %peer, reason, "TLS handshake failed");
    metrics::counter!(
        crate::metrics::TLS_HANDSHAKE_FAILURES_TOTAL,
        "listener" => spec.name.to_string(),
        "reason" => reason
    )
    .increment(1);
}

/// What an HTTP connection is served with once any TLS handshake is done.
struct Served {
    spec: Arc<ListenerSpec>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    shutdown: watch::Receiver<bool>,
}

impl Served {
    /// Serves a TLS connection: the handshake (bounded by the header read timeout), then HTTP.
    async fn https(self, stream: TcpStream, peer: SocketAddr, tls: ListenerTls, limits: &Limits) {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config.clone());
        let handshake = tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
        match handshake.await {
            Ok(Ok(stream)) => {
                let info = TlsInfo::from_connection(stream.get_ref().1);
                metrics::counter!(
                    crate::metrics::TLS_HANDSHAKES_TOTAL,
                    "listener" => self.spec.name.to_string(),
                    "protocol" => info.protocol
                )
                .increment(1);
                let connection =
                    ClientConnection::new(peer, Some(info), tls.forward_client_identity);
                self.http(TokioIo::new(stream), connection, tls.hsts, limits)
                    .await;
            }
            Ok(Err(error)) => handshake_failed(&self.spec, peer, handshake_failure(&error)),
            Err(_) => handshake_failed(&self.spec, peer, "timeout"),
        }
    }

    async fn http<I>(
        self,
        io: TokioIo<I>,
        connection: ClientConnection,
        hsts: Option<HeaderValue>,
        limits: &Limits,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let builder = limits.builder();
        let activity = Arc::new(Activity::new());
        if let Some(port) = self.spec.redirect_https_port {
            let track = activity.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let _in_flight = track.begin();
                std::future::ready(Ok::<_, Infallible>(redirect::to_https(&request, port)))
            });
            let served = builder.serve_connection(io, service);
            return self.drive(served, &activity, limits.idle_timeout).await;
        }
        let connection = Arc::new(connection);
        let snapshot = self.snapshot.clone();
        let track = activity.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let in_flight = track.begin();
            // One snapshot per request, kept to the end: a reload never changes a request
            // half-way through.
            let current = snapshot.load_full();
            let connection = connection.clone();
            let hsts = hsts.clone();
            async move {
                // Boxed once per request: hyper keeps the service's future in its dispatcher,
                // and a large future would be copied there and back.
                let handled = Box::pin(pipeline::handle(current, request, &connection));
                let mut response = handled.await;
                if let Some(hsts) = hsts {
                    response
                        .headers_mut()
                        .insert(STRICT_TRANSPORT_SECURITY, hsts);
                }
                drop(in_flight);
                Ok::<_, Infallible>(response)
            }
        });
        let served = builder.serve_connection(io, service);
        self.drive(served, &activity, limits.idle_timeout).await;
    }

    /// Runs `connection` to its end, asking it to close gracefully (in-flight requests
    /// finish) when it has been idle for `idle_timeout` or when the gateway shuts down.
    async fn drive<I, S, B>(
        self,
        connection: auto::Connection<'_, I, S, TokioExecutor>,
        activity: &Activity,
        idle_timeout: Duration,
    ) where
        S: hyper::service::Service<Request<Incoming>, Response = http::Response<B>>,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (spec, mut shutdown) = (self.spec, self.shutdown);
        let mut connection = pin!(connection);
        let mut closing = false;
        let idle_check = tokio::time::sleep(idle_timeout);
        let mut idle_check = pin!(idle_check);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        let timed_out = error
                            .downcast_ref::<hyper::Error>()
                            .is_some_and(hyper::Error::is_timeout);
                        if timed_out {
                            // hyper's header read timeout: the client was too slow with its headers.
                            metrics::counter!(
                                crate::metrics::CONNECTIONS_CLOSED_TOTAL,
                                "listener" => spec.name.to_string(),
                                "reason" => "header_timeout"
                            )
                            .increment(1);
                        }
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                _ = shutdown.changed(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = idle_check.as_mut(), if !closing => {
                    match activity.idle_deadline(idle_timeout) {
                        Some(deadline) => idle_check.as_mut().reset(deadline),
                        None => {
                            metrics::counter!(
                                crate::metrics::CONNECTIONS_CLOSED_TOTAL,
                                "listener" => spec.name.to_string(),
                                "reason" => "idle"
                            )
                            .increment(1);
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        }
    }
}

/// Requests in flight on a connection, and when the last one ended.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to the end of the last request.
    last_done_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        }
    }

    /// Marks a request in flight until the returned guard drops.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// When the connection becomes idle for `timeout` if nothing happens before: `None`
    /// when it already is.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Some(Instant::now() + timeout);
        }
        let last = self.opened + Duration::from_millis(self.last_done_ms.load(Ordering::Relaxed));
        let deadline = last + timeout;
        (deadline > Instant::now()).then_some(deadline)
    }
}

/// A request in flight; its drop records when it ended.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let elapsed = self.0.opened.elapsed().as_millis() as u64;
        self.0.last_done_ms.fetch_max(elapsed, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connection limits of the snapshot current when the connection arrived.
struct Limits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_header_bytes: usize,
    http2_max_concurrent_streams: u32,
}

impl From<&GatewaySettings> for Limits {
    fn from(settings: &GatewaySettings) -> Self {
        Limits {
            header_read_timeout: settings.header_read_timeout,
            idle_timeout: settings.idle_timeout,
            max_header_bytes: settings.max_header_bytes,
            http2_max_concurrent_streams: settings.http2_max_concurrent_streams,
        }
    }
}

impl Limits {
    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Without a timer hyper silently disables its header-read timeout: a client trickling
        // headers would hold a connection forever.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes + HEADER_BUFFER_SLACK);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .max_concurrent_streams(self.http2_max_concurrent_streams)
            .max_header_list_size((self.max_header_bytes + HEADER_BUFFER_SLACK) as u32);
        builder
    }
}

/// The `reason` label for a failed handshake.
fn handshake_failure(error: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::NoCertificatesPresented) => "client_certificate_missing",
        Some(rustls::Error::InvalidCertificate(_)) => "client_certificate_invalid",
        Some(rustls::Error::PeerIncompatible(_)) => "incompatible",
        Some(rustls::Error::InvalidMessage(_)) => "not_tls",
        Some(rustls::Error::AlertReceived(_)) => "alert_received",
        Some(rustls::Error::PeerMisbehaved(_)) => "peer_misbehaved",
        Some(_) => "error",
        None => match error.kind() {
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
                "connection_closed"
            }
            _ => "error",
        },
    }
}
