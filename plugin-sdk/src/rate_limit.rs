//! Atomic token buckets and quota counters, shared by every instance of the plugin and, with the
//! Redis store, by every gateway replica.
//!
//! Needs the `rate-limit` capability: `grants = ["rate-limit"]` in the plugin's gateway config
//! (a plugin that calls these functions without the grant fails to load). Keys are private to
//! the plugin; build them from what you limit on (`"ip:203.0.113.7"`, `"key:k-42"`).
//!
//! ```
//! use wasmgate_plugin_sdk::rate_limit::{self, Bucket};
//! // 10 requests at once, then 5 per second.
//! let bucket = Bucket::per_second(5, 10);
//! let decision = rate_limit::check_bucket("ip:203.0.113.7", bucket, 1).unwrap();
//! assert!(decision.allowed);
//! assert_eq!(decision.remaining, 9);
//! ```
//!
//! Natively the fake host keeps the state per thread and reads the (freezable) fake clock, see
//! [`testing::freeze_clock`](crate::testing::freeze_clock) and
//! [`testing::set_store_unavailable`](crate::testing::set_store_unavailable).

pub use wasmgate_plugin_contract::rate_limit::{
    Bucket, BucketDecision, QuotaDecision, Window, algorithm, parse_period, whole_seconds_up,
};

use crate::StoreError;
use crate::host;

/// Takes `cost` tokens from the bucket under `key` (a cost of 0 only reads the state).
pub fn check_bucket(key: &str, bucket: Bucket, cost: u32) -> Result<BucketDecision, StoreError> {
    host::check_bucket(key, bucket, cost)
}

/// Counts `cost` uses against a quota of `limit` per `window` under `key`; refused, and not
/// counted, when it would go over.
pub fn use_quota(
    key: &str,
    limit: u64,
    window: Window,
    cost: u64,
) -> Result<QuotaDecision, StoreError> {
    host::use_quota(key, limit, window, cost)
}
