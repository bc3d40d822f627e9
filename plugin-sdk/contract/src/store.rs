//! What the shared store (the `rate-limit` and `kv` capabilities) refuses, the same way in the
//! gateway's stores and the SDK's fake host, before touching any state. A refused call fails
//! with the store's "invalid" error carrying the message returned here, which says which bound
//! it crossed.
//!
//! Every call checks its key with [`check_key`] and its arguments with the check of its kind.
//! Keys are the plugin's own: the gateway checks them before it puts the plugin's namespace in
//! front.

use std::time::Duration;

use crate::rate_limit::{Bucket, algorithm};

/// The longest key, in bytes. Long enough for a raw bearer token used as a cache key; hash
/// longer inputs.
pub const MAX_KEY_BYTES: usize = 4096;

/// The largest key-value entry, in bytes: 64 KiB. Enough for cached claims or a small JSON
/// document, small enough that one plugin cannot make the store hold much per key.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The shortest key-value TTL; shorter ones are refused.
pub const MIN_TTL: Duration = Duration::from_millis(1);

/// The longest time a value is kept; longer TTLs are shortened to this.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest quota limit, 2^53 − 1: the Redis script counts in exact Lua doubles.
pub const MAX_QUOTA_LIMIT: u64 = (1 << 53) - 1;

/// The longest a bucket may take to refill from empty (its period / rate × burst): 100 years.
/// Keeps the Redis script's microsecond arithmetic exact in Lua doubles.
pub const MAX_BURST_WINDOW: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Refuses empty and oversized keys.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("empty key".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "key of {} bytes is over the {MAX_KEY_BYTES}-byte cap; hash long keys",
            key.len()
        ));
    }
    Ok(())
}

/// Refuses what [`algorithm::validate_bucket`] refuses, and buckets whose burst window is over
/// [`MAX_BURST_WINDOW`].
pub fn check_bucket(bucket: &Bucket) -> Result<(), String> {
    algorithm::validate_bucket(bucket)?;
    if burst_window_us(bucket) > MAX_BURST_WINDOW.as_micros() {
        return Err(format!(
            "bucket of {} per {:?} with burst {} takes over {} years to refill; shorten the \
             period or the burst",
            bucket.rate,
            bucket.period,
            bucket.burst,
            MAX_BURST_WINDOW.as_secs() / (365 * 24 * 60 * 60)
        ));
    }
    Ok(())
}

/// The bucket's emission interval times its burst, in microseconds: how far ahead of now its
/// arrival time may run.
pub fn burst_window_us(bucket: &Bucket) -> u128 {
    u128::from(algorithm::emission_interval_us(bucket)) * u128::from(bucket.burst)
}

/// Refuses quota limits over [`MAX_QUOTA_LIMIT`].
pub fn check_quota(limit: u64) -> Result<(), String> {
    if limit > MAX_QUOTA_LIMIT {
        return Err(format!(
            "quota limit {limit} is over the maximum of {MAX_QUOTA_LIMIT}"
        ));
    }
    Ok(())
}

/// Checks a key-value write's value and TTL, and returns the TTL to apply (capped at
/// [`MAX_TTL`]).
pub fn check_kv_set(value: &[u8], ttl: Duration) -> Result<Duration, String> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value of {} bytes is over the {MAX_VALUE_BYTES}-byte cap",
            value.len()
        ));
    }
    if ttl < MIN_TTL {
        return Err(format!("ttl of {ttl:?} is under the minimum of 1 ms"));
    }
    Ok(ttl.min(MAX_TTL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_present_and_short() {
        assert_eq!(check_key(""), Err("empty key".into()));
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert_eq!(
            check_key(&"k".repeat(MAX_KEY_BYTES + 1)),
            Err("key of 4097 bytes is over the 4096-byte cap; hash long keys".into())
        );
    }

    #[test]
    fn buckets_that_refill_over_a_century_are_refused() {
        assert!(check_bucket(&Bucket::per_second(1, 1_000_000)).is_ok());
        let glacial = Bucket {
            rate: 1,
            period: Duration::from_secs(365 * 24 * 60 * 60),
            burst: 101,
        };
        let err = check_bucket(&glacial).unwrap_err();
        assert!(err.contains("over 100 years"), "{err}");
        assert_eq!(
            check_bucket(&Bucket::per_second(0, 1)),
            Err("bucket rate must be at least 1".into())
        );
    }

    #[test]
    fn kv_values_are_capped_and_ttls_shortened() {
        let ttl = check_kv_set(b"v", Duration::from_secs(7 * 24 * 60 * 60)).unwrap();
        assert_eq!(ttl, MAX_TTL);
        let too_big = vec![0; MAX_VALUE_BYTES + 1];
        assert_eq!(
            check_kv_set(&too_big, Duration::from_secs(1)),
            Err("value of 65537 bytes is over the 65536-byte cap".into())
        );
        assert!(check_kv_set(b"v", Duration::from_micros(999)).is_err());
        assert!(check_quota(MAX_QUOTA_LIMIT).is_ok());
        assert!(check_quota(MAX_QUOTA_LIMIT + 1).is_err());
    }
}
