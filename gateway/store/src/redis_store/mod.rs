//! The Redis backend: state shared by every gateway replica that points at the same server
//! (and key prefix). Buckets and quotas are atomic Lua scripts on the server's clock, values
//! are plain `SET … PX` / `GET` / `DEL`, and every key expires once it no longer matters.
//!
//! Every call is bounded by [`RedisConfig::command_timeout`] and fails at once while there is
//! no connection; see [`link`] for how the connection is kept up.

mod link;
mod scripts;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{Client, RedisError, RedisResult};
use wasmgate_plugin_contract::rate_limit::{
    Bucket, BucketDecision, QuotaDecision, Window, algorithm,
};

use crate::clock::{Clock, SystemClock};
use crate::{OpenError, RedisConfig, StoreBackend, StoreFailure, limits};
use link::Link;
use scripts::KeySpace;

/// Costs sent to the scripts are capped here: anything larger is refused all the same, and
/// Lua's doubles hold every integer up to it exactly.
const LUA_EXACT_MAX: u64 = 1 << 53;

/// The Redis backend. Cloning gives another handle on the same connection; the background
/// connection task stops when the last handle is dropped.
///
/// Answers as the memory store does, with two differences: time is the Redis server's (so
/// every replica agrees), and key-value TTLs are rounded up to whole milliseconds.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisConfig,
    link: Arc<Link>,
    keys: KeySpace,
    /// The server's clock minus ours, in µs, as last seen: where quota windows are guessed.
    clock_offset_us: AtomicI64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.link.close();
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.inner.config)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl RedisStore {
    /// Checks `config` and starts connecting in the background; returns at once, disconnected.
    /// Calls fail with [`StoreFailure::Unavailable`] until the connection is up (usually within
    /// a round trip), and again whenever it is lost, while it is re-established with backoff.
    /// Must be called inside a Tokio runtime.
    pub fn open(config: &RedisConfig) -> Result<RedisStore, OpenError> {
        for (name, timeout) in [
            ("command_timeout", config.command_timeout),
            ("connect_timeout", config.connect_timeout),
        ] {
            if timeout.is_zero() {
                return Err(OpenError::InvalidSetting(format!(
                    "redis `{name}` must be at least 1 ms"
                )));
            }
        }
        let client = Client::open(config.url.as_str()).map_err(|error| OpenError::InvalidUrl {
            url: config.redacted_url(),
            reason: error.to_string(),
        })?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| OpenError::NoRuntime)?;
        // rustls needs a process-wide crypto provider for `rediss://`; keep one set by the
        // application if there is one.
        #[cfg(feature = "tls")]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let address = client.get_connection_info().addr().to_string();
        let link = Arc::new(Link::new(address));
        runtime.spawn(link::supervise(
            Arc::clone(&link),
            client,
            config.connect_timeout,
        ));
        Ok(RedisStore {
            inner: Arc::new(Inner {
                config: config.clone(),
                link,
                keys: KeySpace::new(&config.key_prefix),
                clock_offset_us: AtomicI64::new(0),
            }),
        })
    }

    /// The configuration this store was opened with.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// Whether a connection is up (and passed its last health check). Calls made while this is
    /// false fail at once.
    pub fn is_connected(&self) -> bool {
        self.inner.link.is_connected()
    }

    /// Runs `exchange` on the connection, within the command timeout. Errors that mean the
    /// connection broke hand it back to the supervisor.
    async fn run<T, F, Fut>(&self, exchange: F) -> Result<T, StoreFailure>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let link = &self.inner.link;
        let connection = link.connection()?;
        let timeout = self.inner.config.command_timeout;
        match tokio::time::timeout(timeout, exchange((*connection).clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if breaks_connection(&error) {
                    link.lost(&connection, error.to_string());
                }
                Err(StoreFailure::Unavailable(format!(
                    "redis {}: {error}",
                    link.address()
                )))
            }
            Err(_) => {
                link.suspect();
                Err(StoreFailure::Unavailable(format!(
                    "redis {}: command timed out after {timeout:?}",
                    link.address()
                )))
            }
        }
    }

    /// Our best guess of the server's clock, in seconds since the epoch.
    fn server_now_s(&self) -> u64 {
        let offset = self.inner.clock_offset_us.load(Ordering::Relaxed);
        SystemClock.now_us().saturating_add_signed(offset) / 1_000_000
    }

    fn learn_server_time(&self, server_now_us: u64) {
        let offset = i128::from(server_now_us) - i128::from(SystemClock.now_us());
        let offset = i64::try_from(offset).unwrap_or(0);
        self.inner.clock_offset_us.store(offset, Ordering::Relaxed);
    }
}

/// Whether `error` means the connection is unusable (as opposed to a command the server
/// refused, such as `BUSY` or `OOM`).
fn breaks_connection(error: &RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped() || error.is_unrecoverable_error()
}

fn integer(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl StoreBackend for RedisStore {
    async fn check_bucket(
        &self,
        key: &str,
        bucket: &Bucket,
        cost: u32,
    ) -> Result<BucketDecision, StoreFailure> {
        limits::check_bucket(key, bucket)?;
        let limit_us = u64::try_from(limits::burst_window_us(bucket)).unwrap_or(u64::MAX);
        let interval = u128::from(algorithm::emission_interval_us(bucket));
        let cost_us = (interval * u128::from(cost)).min(u128::from(LUA_EXACT_MAX)) as u64;
        let redis_key = self.inner.keys.bucket(key);
        let (now, stored, taken): (i64, i64, i64) = self
            .run(|mut connection| async move {
                scripts::CHECK_BUCKET
                    .key(redis_key)
                    .arg(limit_us)
                    .arg(cost_us)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let now = integer(now);
        self.learn_server_time(now);
        let stored = (stored >= 0).then_some(integer(stored));
        let (decision, new_tat) = algorithm::check_bucket(stored, now, bucket, cost);
        debug_assert_eq!(
            decision.allowed,
            taken == 1,
            "script and algorithm disagree"
        );
        debug_assert!(new_tat.is_none() || taken == 1);
        Ok(decision)
    }

    async fn use_quota(
        &self,
        key: &str,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> Result<QuotaDecision, StoreFailure> {
        limits::check_quota(key, limit)?;
        let capped_cost = cost.min(LUA_EXACT_MAX);
        let (used, end) = self
            .run(|mut connection| async move {
                let mut now_s = self.server_now_s();
                // Our guess of the server's clock picks the window; near a window's edge it can
                // be wrong, and the script then answers with the server's time to retry with.
                loop {
                    let (start, end) = algorithm::window_bounds(window, now_s);
                    let (counted, server_now_us, used): (i64, i64, i64) = scripts::USE_QUOTA
                        .key(self.inner.keys.quota(key, window, start))
                        .arg(start)
                        .arg(end)
                        .arg(end.saturating_mul(1000))
                        .arg(limit)
                        .arg(capped_cost)
                        .invoke_async(&mut connection)
                        .await?;
                    let server_now_us = integer(server_now_us);
                    self.learn_server_time(server_now_us);
                    if counted == 1 {
                        return Ok((integer(used), end));
                    }
                    now_s = server_now_us / 1_000_000;
                }
            })
            .await?;
        Ok(algorithm::quota_decision(used, limit, cost, end))
    }

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreFailure> {
        limits::check_key(key)?;
        let command = redis::cmd("GET").arg(self.inner.keys.kv(key)).clone();
        self.run(|mut connection| async move { command.query_async(&mut connection).await })
            .await
    }

    async fn kv_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreFailure> {
        let ttl = limits::check_kv_set(key, value, ttl)?;
        let ttl_ms = u64::try_from(ttl.as_micros().div_ceil(1000)).unwrap_or(u64::MAX);
        let command = redis::cmd("SET")
            .arg(self.inner.keys.kv(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .clone();
        self.run(|mut connection| async move { command.exec_async(&mut connection).await })
            .await
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreFailure> {
        limits::check_key(key)?;
        let command = redis::cmd("DEL").arg(self.inner.keys.kv(key)).clone();
        self.run(|mut connection| async move { command.exec_async(&mut connection).await })
            .await
    }
}

#[cfg(all(test, feature = "test-support"))]
mod tests {
    use super::*;
    use crate::test_support::RedisServer;

    #[tokio::test]
    async fn a_replica_whose_clock_is_days_off_counts_in_the_servers_window() {
        let server = RedisServer::start();
        let config = RedisConfig {
            command_timeout: Duration::from_secs(2),
            ..RedisConfig::new(server.url())
        };
        let store = RedisStore::open(&config).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while !store.is_connected() {
            assert!(std::time::Instant::now() < deadline, "no connection");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // This replica believes it is three days later than the server does.
        let three_days_us = 3 * 86_400 * 1_000_000;
        store
            .inner
            .clock_offset_us
            .store(three_days_us, Ordering::Relaxed);
        let decision = store.use_quota("k", 5, Window::Day, 1).await.unwrap();
        let today = algorithm::window_bounds(Window::Day, SystemClock.now_us() / 1_000_000);
        assert_eq!((decision.used, decision.resets_at), (1, today.1));
        // It learned the server's clock on the way.
        let offset = store.inner.clock_offset_us.load(Ordering::Relaxed);
        assert!(offset.abs() < 60_000_000, "offset {offset} µs");
    }
}
