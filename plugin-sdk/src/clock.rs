//! Time, as the gateway sees it.
//!
//! Natively the fake host reads the system clock unless a test froze it, see
//! [`testing::freeze_clock`](crate::testing::freeze_clock).

use std::time::{Duration, SystemTime};

use crate::host;

/// The current wall-clock time.
pub fn now() -> SystemTime {
    let (seconds, nanoseconds) = host::now();
    SystemTime::UNIX_EPOCH + Duration::new(seconds, nanoseconds)
}

/// A monotonic instant in nanoseconds, for measuring durations (only differences mean
/// anything).
pub fn monotonic_nanos() -> u64 {
    host::monotonic_nanos()
}
