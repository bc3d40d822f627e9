//! The memory store's clock, injectable so tests can freeze time, cross a quota window or step
//! a bucket by exact microseconds. (The Redis store reads the Redis server's clock instead.)

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in microseconds since the Unix epoch (the unit of
/// [`algorithm`](wasmgate_plugin_contract::rate_limit::algorithm)).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Microseconds since the Unix epoch, now.
    fn now_us(&self) -> u64;
}

/// The system's wall clock: [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> u64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX)
    }
}

/// A clock that stands still until it is [set](Self::set) or [advanced](Self::advance).
#[derive(Debug, Default)]
pub struct ManualClock {
    now_us: AtomicU64,
}

impl ManualClock {
    /// A clock stopped at `now_us` microseconds since the epoch.
    pub fn new(now_us: u64) -> Self {
        ManualClock {
            now_us: AtomicU64::new(now_us),
        }
    }

    /// A clock stopped at `seconds` since the epoch.
    pub fn at_seconds(seconds: u64) -> Self {
        Self::new(seconds.saturating_mul(1_000_000))
    }

    /// Moves the clock to `now_us` (backwards too).
    pub fn set(&self, now_us: u64) {
        self.now_us.store(now_us, Ordering::SeqCst);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .now_us
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> u64 {
        self.now_us.load(Ordering::SeqCst)
    }
}
