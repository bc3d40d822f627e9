//! `interface clock` of the contract: wall-clock time and a monotonic clock.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::HostState;
use crate::plugin::bindings::clock;

impl clock::Host for HostState {
    fn now(&mut self) -> clock::Datetime {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        clock::Datetime {
            seconds: since_epoch.as_secs(),
            nanoseconds: since_epoch.subsec_nanos(),
        }
    }

    fn monotonic_nanos(&mut self) -> u64 {
        monotonic_origin().elapsed().as_nanos() as u64
    }
}

/// The process-wide origin of the monotonic clock plugins see.
fn monotonic_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}
