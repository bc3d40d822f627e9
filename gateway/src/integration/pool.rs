//! Keep-alive HTTP/1.1 connections to one upstream.
//!
//! hyper-util's pool is general (any number of hosts, HTTP/2, racing a connect against a
//! checkout), and a proxied request paid for it: a SipHash of the pool key on checkout and
//! again on return, a task spawned per response to wait for the connection to be ready, and
//! about 8,000 instructions in all. An upstream here has one origin, so its pool is a stack
//! of idle connections behind a mutex held for a push or a pop: the most recently used
//! connection goes out first (its buffers are warm, and the idle ones at the bottom age out).
//!
//! A connection goes back on the stack when the response body it carried has been read to
//! its end; a body dropped half-read takes its connection with it (HTTP/1.1 cannot reuse it).
//!
//! Over HTTP/2 (`h2`, `h2c`, or `auto` when ALPN settles on `h2`) there is one connection per
//! target, and every request is a stream on it; a closed one is replaced by the next request.
//!
//! With `max_connections`, a new connection needs a place within the upstream's
//! [`ConnectionLimit`]; without one free, the request waits (one of `max_pending`) for a
//! connection to come back idle or to close.

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, Uri};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::client::conn::http2;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::Connection;
use hyper_util::client::legacy::connect::HttpConnector;

use super::discovery::TargetResolver;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower_service::Service;

use super::connection_limit::{ConnectionLimit, Slot};
use super::target::InFlight;
use crate::body::{BoxError, GatewayBody};
use crate::config::UpstreamProtocol;

/// How long a connection may sit idle before the pool closes it.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// How often an HTTP/2 connection to a target is pinged.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);

/// A ping unanswered for this long closes the connection.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many idle connections are kept per upstream; a connection returned to a full
/// pool is closed.
pub(super) const MAX_IDLE: usize = 1024;

/// The idle keep-alive connections to one upstream origin, and the connector for new ones.
pub(super) struct ConnectionPool {
    connector: HttpsConnector<HttpConnector<TargetResolver>>,
    /// `scheme://authority` of the upstream: what the connector dials.
    origin: Uri,
    /// Idle connections, the most recently returned last.
    idle: Mutex<Vec<IdleConnection>>,
    protocol: UpstreamProtocol,
    /// The HTTP/2 connection requests are multiplexed over, once there is one.
    multiplexed: Mutex<Option<http2::SendRequest<GatewayBody>>>,
    /// The upstream's `max_connections` and `max_pending`, when it sets them.
    limit: Option<Arc<ConnectionLimit>>,
}

/// Whom a connection is for: a request (within the upstream's connection limit), or a
/// health check (never refused or kept waiting by the limit: a saturated upstream must not
/// look unhealthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sender {
    /// A client's request.
    Request,
    /// An active health check.
    Probe,
}

/// A connection to send on.
enum Acquired {
    /// An idle keep-alive connection.
    Idle(SendRequest<GatewayBody>),
    /// A new one; `pooled` when it may go back to the pool after the response (a probe's
    /// connection made beyond the limit is not).
    Fresh { fresh: Fresh, pooled: bool },
}

/// A newly made connection, in the version it speaks.
enum Fresh {
    Http1(SendRequest<GatewayBody>),
    Http2(http2::SendRequest<GatewayBody>),
}

struct IdleConnection {
    sender: SendRequest<GatewayBody>,
    since: Instant,
}

/// A request that got no response head: why, and the request itself when not a byte of it
/// was written (it can go to another target as it is, even with a streamed body).
#[derive(Debug)]
pub(super) struct Unanswered {
    pub(super) error: SendError,
    pub(super) unsent: Option<Request<GatewayBody>>,
}

/// Why a request got no response head.
#[derive(Debug)]
pub(super) enum SendError {
    /// A new connection could not be made (TCP connect, its timeout, the TLS handshake).
    Connect(BoxError),
    /// `max_connections` are open and `max_pending` requests already wait for one.
    Overflow,
    /// The connection failed while the request was written or the response head read, or
    /// the request body failed.
    Request(hyper::Error),
}

impl ConnectionPool {
    /// An empty pool for `origin` (only its scheme and authority are used). Within a tokio
    /// runtime it also starts a task that closes connections idle for [`IDLE_TIMEOUT`], and
    /// ends when the pool is dropped.
    pub(super) fn new(
        connector: HttpsConnector<HttpConnector<TargetResolver>>,
        origin: Uri,
        protocol: UpstreamProtocol,
        limit: Option<Arc<ConnectionLimit>>,
    ) -> Arc<Self> {
        let pool = Arc::new(ConnectionPool {
            connector,
            origin,
            idle: Mutex::new(Vec::new()),
            protocol,
            multiplexed: Mutex::new(None),
            limit,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close_expired_while_alive(Arc::downgrade(&pool)));
        }
        pool
    }

    /// Sends `request` (origin-form URI, `Host` set) on an idle connection, or on a new one
    /// when none is idle. A server may close an idle keep-alive connection at any moment
    /// (RFC 9112 §9.3.1): a request that such a connection refused before a byte of it was
    /// written is sent again on the next one, and at worst on a new connection.
    pub(super) async fn send(
        self: &Arc<Self>,
        mut request: Request<GatewayBody>,
        sender: Sender,
    ) -> Result<Response<PooledBody>, Unanswered> {
        if self.protocol != UpstreamProtocol::Http1
            && let Some(sender) = self.multiplexed()
        {
            match self.send_multiplexed(sender, request).await {
                // The connection went away (a GOAWAY, a close) before the stream was
                // opened: a new connection takes the request, as for HTTP/1.1 below.
                Err(Unanswered {
                    unsent: Some(unsent),
                    ..
                }) => {
                    self.forget_multiplexed();
                    request = unsent;
                }
                sent => return sent,
            }
        }
        loop {
            let (mut connection, reused, pooled) = match self.acquire(sender).await {
                Ok(Acquired::Idle(connection)) => (connection, true, true),
                Ok(Acquired::Fresh {
                    fresh: Fresh::Http1(connection),
                    pooled,
                }) => (connection, false, pooled),
                Ok(Acquired::Fresh {
                    fresh: Fresh::Http2(connection),
                    ..
                }) => return self.send_multiplexed(connection, request).await,
                Err(error) => {
                    return Err(Unanswered {
                        error,
                        unsent: Some(request),
                    });
                }
            };
            if self.protocol == UpstreamProtocol::Auto {
                // `te: trailers` was for HTTP/2 (gRPC); to HTTP/1.1 it is hop-by-hop.
                request.headers_mut().remove(http::header::TE);
            }
            match connection.try_send_request(request).await {
                Ok(response) => {
                    let pool = Arc::downgrade(self);
                    return Ok(response.map(move |body| PooledBody {
                        body,
                        ended: false,
                        connection: pooled.then_some((connection, pool)),
                        in_flight: [None, None],
                    }));
                }
                Err(mut error) => match error.take_message() {
                    Some(unsent) if reused => request = unsent,
                    unsent => {
                        return Err(Unanswered {
                            error: SendError::Request(error.into_error()),
                            unsent,
                        });
                    }
                },
            }
        }
    }

    /// An idle connection, or a new one within the upstream's connection limit — waiting,
    /// as one of its pending requests, while there is no room.
    async fn acquire(&self, sender: Sender) -> Result<Acquired, SendError> {
        if let Some(idle) = self.checkout().await {
            return Ok(Acquired::Idle(idle));
        }
        let Some(limit) = &self.limit else {
            return self.connect_new(None, true).await;
        };
        let mut pending = None;
        loop {
            let freed = limit.freed();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(idle) = self.checkout().await {
                return Ok(Acquired::Idle(idle));
            }
            if let Some(slot) = limit.try_open() {
                return self.connect_new(Some(slot), true).await;
            }
            if sender == Sender::Probe {
                // Checked through a connection of its own, closed after the check.
                return self.connect_new(None, false).await;
            }
            if pending.is_none() {
                pending = Some(limit.enter_pending().ok_or(SendError::Overflow)?);
            }
            // Every wake-up may be a connection gone idle at another target: each would
            // hold its slot while this request waits, so one is closed per wait.
            limit.close_idle_elsewhere(self);
            freed.await;
        }
    }

    /// A new connection holding `slot` (if any) while it is open. Boxed: a new connection
    /// is rare, and its future (TLS, the HTTP/2 handshake) is large — inline, every send
    /// would move it whole.
    async fn connect_new(&self, slot: Option<Slot>, pooled: bool) -> Result<Acquired, SendError> {
        let fresh = Box::pin(self.connect(slot, pooled)).await?;
        Ok(Acquired::Fresh { fresh, pooled })
    }

    /// The most recently returned idle connection that is still open, once it is ready for
    /// a request; `None` when no connection is idle.
    async fn checkout(&self) -> Option<SendRequest<GatewayBody>> {
        loop {
            let IdleConnection { mut sender, since } = self.lock_idle().pop()?;
            if sender.is_closed() || since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            // A connection returned the moment its last body ended is ready once its task
            // has seen the end; that is a wake-up away, not a wait on the network.
            if sender.is_ready() || sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// Drops the shared HTTP/2 connection (if any), so that the next request makes a new
    /// one: a connection that let a try time out may be dead without knowing it. Always
    /// `false`, for use in a guard.
    pub(super) fn forget_multiplexed(&self) -> bool {
        if self.protocol != UpstreamProtocol::Http1 {
            self.lock_multiplexed().take();
        }
        false
    }

    /// The open HTTP/2 connection, if there is one.
    fn multiplexed(&self) -> Option<http2::SendRequest<GatewayBody>> {
        let shared = self.lock_multiplexed();
        shared.as_ref().filter(|s| !s.is_closed()).cloned()
    }

    /// Sends `request` as a stream of the HTTP/2 connection `sender`: the URI made absolute
    /// (`:scheme` and `:authority` from the target), no `Host`.
    async fn send_multiplexed(
        &self,
        mut sender: http2::SendRequest<GatewayBody>,
        mut request: Request<GatewayBody>,
    ) -> Result<Response<PooledBody>, Unanswered> {
        let mut parts = std::mem::take(request.uri_mut()).into_parts();
        parts.scheme = self.origin.scheme().cloned();
        parts.authority = self.origin.authority().cloned();
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
        request.headers_mut().remove(http::header::HOST);
        match sender.try_send_request(request).await {
            Ok(response) => Ok(response.map(|body| PooledBody {
                body,
                ended: false,
                connection: None,
                in_flight: [None, None],
            })),
            Err(mut error) => Err(Unanswered {
                unsent: error.take_message(),
                error: SendError::Request(error.into_error()),
            }),
        }
    }

    /// A new connection, its task spawned (holding `slot` until the connection ends):
    /// HTTP/2 when the protocol says so or ALPN chose it (then, when `shared`, used by the
    /// requests that follow), else HTTP/1.1.
    async fn connect(&self, slot: Option<Slot>, shared: bool) -> Result<Fresh, SendError> {
        let io = self
            .connector
            .clone()
            .call(self.origin.clone())
            .await
            .map_err(SendError::Connect)?;
        let http2 = match self.protocol {
            UpstreamProtocol::Http1 => false,
            UpstreamProtocol::H2 | UpstreamProtocol::H2c => true,
            UpstreamProtocol::Auto => io.connected().is_negotiated_h2(),
        };
        if http2 {
            // Pings find a connection a silent network dropped (HTTP/1.1 needs none: a
            // connection that timed out is never reused).
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(H2_PING_INTERVAL)
                .keep_alive_timeout(H2_PING_TIMEOUT)
                .keep_alive_while_idle(true)
                .handshake(io)
                .await
                .map_err(SendError::Request)?;
            tokio::spawn(async move {
                let _slot = slot;
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "upstream HTTP/2 connection ended with an error");
                }
            });
            if shared {
                *self.lock_multiplexed() = Some(sender.clone());
            }
            return Ok(Fresh::Http2(sender));
        }
        let (sender, connection) = http1::handshake(io).await.map_err(SendError::Request)?;
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.await {
                tracing::debug!(%error, "upstream connection ended with an error");
            }
        });
        Ok(Fresh::Http1(sender))
    }

    fn lock_multiplexed(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<http2::SendRequest<GatewayBody>>> {
        self.multiplexed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a connection back, unless it is closed or the pool is full; closes connections
    /// idle for longer than [`IDLE_TIMEOUT`] on the way.
    fn put_back(&self, sender: SendRequest<GatewayBody>) {
        if sender.is_closed() {
            return;
        }
        let now = Instant::now();
        let mut idle = self.lock_idle();
        close_expired(&mut idle, now);
        if idle.len() < MAX_IDLE {
            idle.push(IdleConnection { sender, since: now });
        }
        drop(idle);
        if let Some(limit) = &self.limit {
            limit.wake_waiting();
        }
    }

    /// Closes the connection idle the longest, if one is; whether one was.
    pub(super) fn close_longest_idle(&self) -> bool {
        let mut idle = self.lock_idle();
        if idle.is_empty() {
            return false;
        }
        idle.remove(0);
        true
    }

    /// How many connections are idle.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.lock_idle().len()
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<IdleConnection>> {
        // A panic while the lock was held left a valid Vec behind: keep using it.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Drops, from the bottom of the stack (the longest idle), connections idle too long.
fn close_expired(idle: &mut Vec<IdleConnection>, now: Instant) {
    let expired = idle
        .iter()
        .take_while(|connection| now.duration_since(connection.since) > IDLE_TIMEOUT)
        .count();
    idle.drain(..expired);
}

/// Every third of [`IDLE_TIMEOUT`], closes the pool's expired idle connections, so an
/// upstream that gets no traffic holds no connection open for long; ends with the pool.
async fn close_expired_while_alive(pool: Weak<ConnectionPool>) {
    let mut tick = tokio::time::interval(IDLE_TIMEOUT / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        close_expired(&mut pool.lock_idle(), Instant::now());
    }
}

/// A response body from a pooled connection: when it has been read to its end, the
/// connection goes back to its pool.
#[derive(Debug)]
pub struct PooledBody {
    body: Incoming,
    ended: bool,
    /// The connection and its pool, until the body ends or is dropped.
    connection: Option<(SendRequest<GatewayBody>, Weak<ConnectionPool>)>,
    /// The request counts in flight (the target's, the upstream's) this body holds until it
    /// is dropped.
    in_flight: [Option<InFlight>; 2],
}

impl PooledBody {
    /// Holds `target` and `upstream` in flight until the body is dropped.
    pub(super) fn hold(&mut self, target: InFlight, upstream: Option<InFlight>) {
        self.in_flight = [Some(target), upstream];
    }

    /// Whether the connection can carry another request after this body.
    fn finished(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        match &frame {
            None => this.ended = true,
            Some(Err(_)) => this.connection = None,
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        if !self.finished() {
            return;
        }
        if let Some((sender, pool)) = self.connection.take()
            && let Some(pool) = pool.upgrade()
        {
            pool.put_back(sender);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::BodyExt;
    use hyper_util::client::legacy::connect::dns::GaiResolver;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A pool for `http://{addr}`, dialled as the gateway dials a plain upstream.
    fn pool_for(addr: std::net::SocketAddr) -> Arc<ConnectionPool> {
        let system = TargetResolver::System(GaiResolver::new());
        let mut tcp = HttpConnector::new_with_resolver(system);
        tcp.enforce_http(false);
        let connector = HttpsConnector::from((tcp, super::super::plain_only_tls_config()));
        let origin = format!("http://{addr}").parse().unwrap();
        ConnectionPool::new(connector, origin, UpstreamProtocol::Http1, None)
    }

    fn get(addr: std::net::SocketAddr) -> Request<GatewayBody> {
        Request::builder()
            .uri("/x")
            .header(http::header::HOST, addr.to_string())
            .body(crate::body::empty())
            .unwrap()
    }

    /// A loopback server that hands each accepted connection to `serve` in its own task,
    /// counting the connections it accepted.
    async fn counting_server<F, Fut>(serve: F) -> (std::net::SocketAddr, Arc<AtomicUsize>)
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream));
            }
        });
        (addr, accepted)
    }

    /// An HTTP/1.1 keep-alive server answering every request with `body_bytes` bytes.
    async fn http_server(body_bytes: usize) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        counting_server(move |stream| async move {
            let service = hyper::service::service_fn(move |_request| async move {
                let body = http_body_util::Full::new(Bytes::from(vec![b'x'; body_bytes]));
                Ok::<_, std::convert::Infallible>(Response::new(body))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        })
        .await
    }

    #[tokio::test]
    async fn sequential_requests_share_one_connection() {
        let (addr, accepted) = http_server(5).await;
        let pool = pool_for(addr);
        for _ in 0..3 {
            let response = pool.send(get(addr), Sender::Request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body.len(), 5);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_takes_its_connection_with_it() {
        let (addr, accepted) = http_server(1024 * 1024).await;
        let pool = pool_for(addr);
        let mut body = pool
            .send(get(addr), Sender::Request)
            .await
            .unwrap()
            .into_body();
        body.frame().await.unwrap().unwrap();
        drop(body);
        assert_eq!(pool.idle_count(), 0);
        let response = pool.send(get(addr), Sender::Request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 1024 * 1024);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn connections_the_server_closed_while_idle_are_replaced_without_failing_a_request() {
        // Answers one request per connection, then closes it without saying so: the pool
        // holds a connection the server has already given up.
        let (addr, accepted) = counting_server(|mut stream| async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.unwrap();
                head.extend_from_slice(&buf[..n]);
            }
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            stream.write_all(answer).await.unwrap();
        })
        .await;
        let pool = pool_for(addr);
        for _ in 0..5 {
            let response = pool.send(get(addr), Sender::Request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let failed = pool_for(addr)
            .send(get(addr), Sender::Request)
            .await
            .unwrap_err();
        assert!(matches!(failed.error, SendError::Connect(_)), "{failed:?}");
        assert!(
            failed.unsent.is_some(),
            "a request that found no connection comes back"
        );
    }

    #[test]
    fn only_connections_idle_too_long_are_closed() {
        let now = Instant::now();
        let ages = [
            IDLE_TIMEOUT * 2,
            IDLE_TIMEOUT + Duration::from_secs(1),
            Duration::ZERO,
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (addr, _) = http_server(1).await;
            let pool = pool_for(addr);
            let mut idle = Vec::new();
            for age in ages {
                let Ok(Fresh::Http1(sender)) = pool.connect(None, true).await else {
                    panic!("an HTTP/1.1 connection");
                };
                idle.push(IdleConnection {
                    sender,
                    since: now - age,
                });
            }
            close_expired(&mut idle, now);
            assert_eq!(idle.len(), 1);
            assert_eq!(idle[0].since, now);
        });
    }
}
