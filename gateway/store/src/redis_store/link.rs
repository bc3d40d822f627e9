//! The connection to Redis, kept up by a background task so that calls never wait for one.
//!
//! ```text
//!            ┌──────────── connect (≤ connect_timeout) + PING ok ───────────┐
//!            │                                                               ▼
//!   disconnected ◄── an I/O error on a call, or a health PING that fails ── connected
//!     │    ▲          (calls that time out ask for a PING at once)           │
//!     └────┘ failed: wait 100 ms … 1 s (doubling, jittered), try again       └─ PING every 1 s
//! ```
//!
//! While disconnected, calls fail at once with the last connection error. One multiplexed
//! connection carries every concurrent call (Redis answers them in order).

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use tokio::sync::Notify;

use super::scripts;
use crate::StoreFailure;

/// How often an idle connection is checked with a `PING`.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// The wait after the first failed connection attempt; it doubles after each failure.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The shared state of one Redis connection: read by every call, written by the supervisor
/// task and by calls that see the connection break.
#[derive(Debug)]
pub(super) struct Link {
    /// `host:port` (never the password), for messages.
    address: String,
    current: ArcSwapOption<MultiplexedConnection>,
    /// Why the last connection attempt failed or the connection was lost.
    last_error: Mutex<Option<String>>,
    /// Wakes the supervisor: to check a suspect connection, or to stop.
    wake: Notify,
    closed: AtomicBool,
}

impl Link {
    pub(super) fn new(address: String) -> Self {
        Link {
            address,
            current: ArcSwapOption::empty(),
            last_error: Mutex::new(None),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }

    pub(super) fn address(&self) -> &str {
        &self.address
    }

    pub(super) fn is_connected(&self) -> bool {
        self.current.load().is_some()
    }

    /// The current connection, or at once the reason there is none.
    pub(super) fn connection(&self) -> Result<Arc<MultiplexedConnection>, StoreFailure> {
        if let Some(connection) = self.current.load_full() {
            return Ok(connection);
        }
        let reason = match &*self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(error) => {
                format!("not connected (last error: {error}); reconnecting in the background")
            }
            None => "not connected yet; connecting in the background".to_owned(),
        };
        Err(StoreFailure::Unavailable(format!(
            "redis {}: {reason}",
            self.address
        )))
    }

    /// `connection` broke: drop it (unless it was already replaced) and reconnect.
    pub(super) fn lost(&self, connection: &Arc<MultiplexedConnection>, reason: String) {
        let previous = self.current.compare_and_swap(connection, None);
        let was_current = previous
            .as_ref()
            .is_some_and(|previous| Arc::ptr_eq(previous, connection));
        if was_current {
            tracing::warn!(
                redis = %self.address,
                "redis connection lost: {reason}; reconnecting in the background"
            );
            self.set_error(reason);
            self.wake.notify_one();
        }
    }

    /// A call timed out: have the supervisor check the connection now.
    pub(super) fn suspect(&self) {
        self.wake.notify_one();
    }

    /// Stops the supervisor and drops the connection (the store is being dropped).
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.current.store(None);
        self.wake.notify_one();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn set_error(&self, reason: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }

    /// Waits for `duration`, or less if woken.
    async fn pause(&self, duration: Duration) {
        tokio::select! {
            () = self.wake.notified() => {}
            () = tokio::time::sleep(duration) => {}
        }
    }
}

/// Connects, keeps checking the connection and reconnects, until the link is closed.
pub(super) async fn supervise(link: Arc<Link>, client: Client, connect_timeout: Duration) {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        // Calls bound themselves (with the command timeout), and health checks with this.
        .set_response_timeout(None);
    let mut backoff = MIN_BACKOFF;
    let mut failures = 0_u32;
    while !link.is_closed() {
        let Some(connection) = link.current.load_full() else {
            match connect(&client, &config, connect_timeout).await {
                Ok(connection) if !link.is_closed() => {
                    tracing::info!(redis = %link.address, "redis connected");
                    link.current.store(Some(Arc::new(connection)));
                    backoff = MIN_BACKOFF;
                    failures = 0;
                }
                Ok(_) => {}
                Err(reason) => {
                    if failures == 0 {
                        tracing::warn!(
                            redis = %link.address,
                            "redis connection failed: {reason}; retrying in the background"
                        );
                    }
                    failures = failures.saturating_add(1);
                    link.set_error(reason);
                    link.pause(jittered(backoff)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            continue;
        };
        link.pause(HEALTH_CHECK_INTERVAL).await;
        let still_current = link
            .current
            .load()
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, &connection));
        if link.is_closed() || !still_current {
            continue;
        }
        if let Err(reason) = ping(&connection, connect_timeout).await {
            link.lost(&connection, reason);
        }
    }
}

/// One connection attempt, checked with a `PING`, with the scripts loaded so the first calls
/// need no extra round trip.
async fn connect(
    client: &Client,
    config: &AsyncConnectionConfig,
    timeout: Duration,
) -> Result<MultiplexedConnection, String> {
    let attempt = async {
        let mut connection = client
            .get_multiplexed_async_connection_with_config(config)
            .await?;
        redis::cmd("PING").exec_async(&mut connection).await?;
        // A server that refuses SCRIPT LOAD still gets the scripts with each EVALSHA miss.
        for script in [&*scripts::CHECK_BUCKET, &*scripts::USE_QUOTA] {
            let _ = script.load_async(&mut connection).await;
        }
        Ok::<_, redis::RedisError>(connection)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("connection attempt timed out after {timeout:?}")),
    }
}

async fn ping(connection: &MultiplexedConnection, timeout: Duration) -> Result<(), String> {
    let mut connection = connection.clone();
    match tokio::time::timeout(timeout, redis::cmd("PING").exec_async(&mut connection)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("health check failed: {error}")),
        Err(_) => Err(format!("health check PING timed out after {timeout:?}")),
    }
}

/// Between half and all of `backoff`, so replicas that lost Redis together do not reconnect in
/// lockstep.
fn jittered(backoff: Duration) -> Duration {
    let random = RandomState::new().hash_one(std::time::Instant::now());
    let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
    backoff.mul_f64(fraction)
}
