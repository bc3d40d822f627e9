//! The calls every backend answers, and [`Store`], the backend a gateway opened.

use std::future::Future;
use std::time::Duration;

use wasmgate_plugin_contract::rate_limit::{Bucket, BucketDecision, QuotaDecision, Window};

use crate::{MemoryStore, OpenError, RedisStore, StoreConfig, StoreFailure};

/// The shared state behind the `rate-limit` and `kv` capabilities. Every call is atomic per key
/// and may run concurrently with any other; none waits longer than the backend's timeout.
///
/// Every call first checks its arguments against [`limits`](crate::limits), identically in
/// every backend, and fails with [`StoreFailure::Invalid`] when they are out of bounds.
pub trait StoreBackend: Send + Sync {
    /// Takes `cost` tokens from the GCRA bucket under `key`, as
    /// [`algorithm::check_bucket`](wasmgate_plugin_contract::rate_limit::algorithm::check_bucket)
    /// decides; a cost of 0 only reads. Refused requests take nothing.
    fn check_bucket(
        &self,
        key: &str,
        bucket: &Bucket,
        cost: u32,
    ) -> impl Future<Output = Result<BucketDecision, StoreFailure>> + Send;

    /// Counts `cost` uses against a quota of `limit` per UTC `window` under `key`; refused, and
    /// not counted, when it would go over. Each window starts again at 0.
    fn use_quota(
        &self,
        key: &str,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> impl Future<Output = Result<QuotaDecision, StoreFailure>> + Send;

    /// The value under `key`, or `None` when absent or expired.
    fn kv_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreFailure>> + Send;

    /// Stores `value` under `key` for `ttl` (at least 1 ms; longer than
    /// [`MAX_TTL`](crate::limits::MAX_TTL) is shortened to it), replacing any previous value.
    fn kv_set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreFailure>> + Send;

    /// Removes `key`; removing an absent key succeeds.
    fn kv_delete(&self, key: &str) -> impl Future<Output = Result<(), StoreFailure>> + Send;
}

/// The backend a gateway opened from its [`StoreConfig`]. Cloning gives another handle on the
/// same state.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded, in-memory store.
    Memory(MemoryStore),
    /// A Redis server shared by replicas.
    Redis(RedisStore),
}

impl Store {
    /// Opens the backend `config` describes. Never waits on the network: a Redis store starts
    /// disconnected, connects in the background and keeps reconnecting while the server is
    /// down. Must be called inside a Tokio runtime (the Redis connection and the memory sweep
    /// run as tasks on it).
    pub fn open(config: &StoreConfig) -> Result<Store, OpenError> {
        match config {
            StoreConfig::Memory => Ok(Store::Memory(MemoryStore::new())),
            StoreConfig::Redis(redis) => RedisStore::open(redis).map(Store::Redis),
        }
    }

    /// Whether this store was opened from `config`: a config reload then keeps it, with its
    /// buckets, quotas, entries and connection.
    pub fn same_config(&self, config: &StoreConfig) -> bool {
        match (self, config) {
            (Store::Memory(_), StoreConfig::Memory) => true,
            (Store::Redis(store), StoreConfig::Redis(redis)) => store.config() == redis,
            _ => false,
        }
    }

    /// Whether the backend can answer right now: always for memory; for Redis, whether a
    /// connection is established (and its last health check passed). For a gauge.
    pub fn is_connected(&self) -> bool {
        match self {
            Store::Memory(_) => true,
            Store::Redis(store) => store.is_connected(),
        }
    }
}

impl From<MemoryStore> for Store {
    fn from(store: MemoryStore) -> Self {
        Store::Memory(store)
    }
}

impl From<RedisStore> for Store {
    fn from(store: RedisStore) -> Self {
        Store::Redis(store)
    }
}

impl StoreBackend for Store {
    async fn check_bucket(
        &self,
        key: &str,
        bucket: &Bucket,
        cost: u32,
    ) -> Result<BucketDecision, StoreFailure> {
        match self {
            Store::Memory(store) => store.check_bucket(key, bucket, cost).await,
            Store::Redis(store) => store.check_bucket(key, bucket, cost).await,
        }
    }

    async fn use_quota(
        &self,
        key: &str,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> Result<QuotaDecision, StoreFailure> {
        match self {
            Store::Memory(store) => store.use_quota(key, limit, window, cost).await,
            Store::Redis(store) => store.use_quota(key, limit, window, cost).await,
        }
    }

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreFailure> {
        match self {
            Store::Memory(store) => store.kv_get(key).await,
            Store::Redis(store) => store.kv_get(key).await,
        }
    }

    async fn kv_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreFailure> {
        match self {
            Store::Memory(store) => store.kv_set(key, value, ttl).await,
            Store::Redis(store) => store.kv_set(key, value, ttl).await,
        }
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreFailure> {
        match self {
            Store::Memory(store) => store.kv_delete(key).await,
            Store::Redis(store) => store.kv_delete(key).await,
        }
    }
}
