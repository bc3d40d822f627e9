//! The embedded store: [`SHARDS`](MemoryStore::SHARDS) independently locked hash maps, a key's
//! shard chosen by a (per-store, randomly seeded) hash of the key. A call locks one shard for a
//! few hundred nanoseconds and never awaits, so tasks on different keys rarely contend.
//!
//! Memory stays bounded by the live keys: an expired entry is dropped when it is next touched,
//! and a background task sweeps one shard every
//! [`SWEEP_INTERVAL`](MemoryStore::SWEEP_INTERVAL) (so every shard about every 3 s), dropping
//! full buckets, counts of past quota windows and expired values.

mod shard;

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use wasmgate_plugin_contract::rate_limit::{Bucket, BucketDecision, QuotaDecision, Window};

use crate::clock::{Clock, SystemClock};
use crate::{StoreBackend, StoreFailure, limits};
use shard::Shard;

/// The in-memory backend: state shared by every task of one gateway process, lost on restart.
/// Cloning gives another handle on the same state.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// Shows the shape, never the keys or values (they may be tokens or personal data).
impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("shards", &self.inner.shards.len())
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

struct Inner {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
    /// The shard the periodic sweep visits next.
    next_sweep: AtomicUsize,
}

impl MemoryStore {
    /// How many independently locked shards the keys are spread over.
    pub const SHARDS: usize = 64;

    /// How often the background sweep visits the next shard.
    pub const SWEEP_INTERVAL: Duration = Duration::from_millis(50);

    /// An empty store reading the system clock. Inside a Tokio runtime, also starts the
    /// periodic sweep (which stops when the last handle is dropped); outside one, expired
    /// entries are only dropped when touched or by [`sweep`](Self::sweep).
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store reading `clock`, e.g. a [`ManualClock`](crate::clock::ManualClock) in
    /// tests. Starts the periodic sweep like [`new`](Self::new).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let inner = Arc::new(Inner {
            shards: (0..Self::SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            clock,
            next_sweep: AtomicUsize::new(0),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep_periodically(Arc::downgrade(&inner)));
        }
        MemoryStore { inner }
    }

    /// Sweeps every shard now; returns how many expired entries were dropped.
    pub fn sweep(&self) -> usize {
        let now = self.inner.clock.now_us();
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).sweep(now))
            .sum()
    }

    /// How many entries the store holds, counting expired ones not yet dropped: a bucket, a
    /// quota key and a value each count one. For a gauge, and to watch the sweep.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).len())
            .sum()
    }

    /// Whether the store holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Locks the shard of `key` and runs `f` on it with the current time.
    fn with_shard<T>(&self, key: &str, f: impl FnOnce(&mut Shard, u64) -> T) -> T {
        let index = self.inner.hasher.hash_one(key) as usize % Self::SHARDS;
        let mut shard = lock(&self.inner.shards[index]);
        // Read the clock under the lock, so one key's calls see time in the order they run.
        f(&mut shard, self.inner.clock.now_us())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    /// Sweeps the next shard in turn.
    fn sweep_next(&self) -> usize {
        let index = self.next_sweep.fetch_add(1, Ordering::Relaxed) % MemoryStore::SHARDS;
        let now = self.clock.now_us();
        lock(&self.shards[index]).sweep(now)
    }
}

/// Sweeps one shard per tick until the store is dropped.
async fn sweep_periodically(store: Weak<Inner>) {
    let mut ticks = tokio::time::interval(MemoryStore::SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(store) = store.upgrade() else {
            return;
        };
        store.sweep_next();
    }
}

/// A shard's critical sections cannot leave it half-updated, so a panic elsewhere while
/// holding the lock does not make its state unusable.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StoreBackend for MemoryStore {
    async fn check_bucket(
        &self,
        key: &str,
        bucket: &Bucket,
        cost: u32,
    ) -> Result<BucketDecision, StoreFailure> {
        limits::check_bucket(key, bucket)?;
        Ok(self.with_shard(key, |shard, now| shard.check_bucket(key, now, bucket, cost)))
    }

    async fn use_quota(
        &self,
        key: &str,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> Result<QuotaDecision, StoreFailure> {
        limits::check_quota(key, limit)?;
        Ok(self.with_shard(key, |shard, now| {
            shard.use_quota(key, now / 1_000_000, limit, window, cost)
        }))
    }

    async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreFailure> {
        limits::check_key(key)?;
        Ok(self.with_shard(key, |shard, now| shard.kv_get(key, now)))
    }

    async fn kv_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreFailure> {
        let ttl = limits::check_kv_set(key, value, ttl)?;
        let ttl_us = u64::try_from(ttl.as_micros()).unwrap_or(u64::MAX);
        self.with_shard(key, |shard, now| {
            shard.kv_set(key, value, now.saturating_add(ttl_us));
        });
        Ok(())
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreFailure> {
        limits::check_key(key)?;
        self.with_shard(key, |shard, _| shard.kv_delete(key));
        Ok(())
    }
}
