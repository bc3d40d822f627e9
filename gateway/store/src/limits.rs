//! What every backend refuses, the same way, before touching any state: a call refused here
//! fails with [`StoreFailure::Invalid`] and the message says which bound it crossed.

use std::time::Duration;

use wasmgate_plugin_sdk::rate_limit::{Bucket, algorithm};

use crate::StoreFailure;

pub use wasmgate_plugin_sdk::kv::MAX_TTL;

/// The longest key, in bytes, after the gateway's plugin prefix. Long enough for a raw bearer
/// token used as a cache key; hash longer inputs.
pub const MAX_KEY_BYTES: usize = 4096;

/// The largest key-value entry, in bytes: 64 KiB. Enough for cached claims or a small JSON
/// document, small enough that one plugin cannot make the store hold much per key.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The shortest key-value TTL; shorter ones are refused. (Longer than [`MAX_TTL`] is
/// shortened to it, as the SDK documents.)
pub const MIN_TTL: Duration = Duration::from_millis(1);

/// The largest quota limit, 2^53 − 1: the Redis script counts in exact Lua doubles.
pub const MAX_QUOTA_LIMIT: u64 = (1 << 53) - 1;

/// The longest a bucket may take to refill from empty (its period / rate × burst): 100 years.
/// Keeps the Redis script's microsecond arithmetic exact in Lua doubles.
pub const MAX_BURST_WINDOW: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Refuses empty and oversized keys.
pub(crate) fn check_key(key: &str) -> Result<(), StoreFailure> {
    if key.is_empty() {
        return Err(StoreFailure::Invalid("empty key".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreFailure::Invalid(format!(
            "key of {} bytes is over the {MAX_KEY_BYTES}-byte cap; hash long keys",
            key.len()
        )));
    }
    Ok(())
}

/// Refuses what [`algorithm::validate_bucket`] refuses, and buckets whose burst window is over
/// [`MAX_BURST_WINDOW`].
pub(crate) fn check_bucket(key: &str, bucket: &Bucket) -> Result<(), StoreFailure> {
    check_key(key)?;
    algorithm::validate_bucket(bucket).map_err(StoreFailure::Invalid)?;
    if burst_window_us(bucket) > MAX_BURST_WINDOW.as_micros() {
        return Err(StoreFailure::Invalid(format!(
            "bucket of {} per {:?} with burst {} takes over {} years to refill; shorten the \
             period or the burst",
            bucket.rate,
            bucket.period,
            bucket.burst,
            MAX_BURST_WINDOW.as_secs() / (365 * 24 * 60 * 60)
        )));
    }
    Ok(())
}

/// The bucket's emission interval times its burst, in microseconds: how far ahead of now its
/// arrival time may run.
pub(crate) fn burst_window_us(bucket: &Bucket) -> u128 {
    u128::from(algorithm::emission_interval_us(bucket)) * u128::from(bucket.burst)
}

/// Refuses quota limits over [`MAX_QUOTA_LIMIT`].
pub(crate) fn check_quota(key: &str, limit: u64) -> Result<(), StoreFailure> {
    check_key(key)?;
    if limit > MAX_QUOTA_LIMIT {
        return Err(StoreFailure::Invalid(format!(
            "quota limit {limit} is over the maximum of {MAX_QUOTA_LIMIT}"
        )));
    }
    Ok(())
}

/// Checks a key-value write and returns the TTL to apply (capped at [`MAX_TTL`]).
pub(crate) fn check_kv_set(
    key: &str,
    value: &[u8],
    ttl: Duration,
) -> Result<Duration, StoreFailure> {
    check_key(key)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreFailure::Invalid(format!(
            "value of {} bytes is over the {MAX_VALUE_BYTES}-byte cap",
            value.len()
        )));
    }
    if ttl < MIN_TTL {
        return Err(StoreFailure::Invalid(format!(
            "ttl of {ttl:?} is under the minimum of 1 ms"
        )));
    }
    Ok(ttl.min(MAX_TTL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_present_and_short() {
        assert_eq!(
            check_key(""),
            Err(StoreFailure::Invalid("empty key".into()))
        );
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        let err = check_key(&"k".repeat(MAX_KEY_BYTES + 1)).unwrap_err();
        assert_eq!(
            err,
            StoreFailure::Invalid(
                "key of 4097 bytes is over the 4096-byte cap; hash long keys".into()
            )
        );
    }

    #[test]
    fn buckets_that_refill_over_a_century_are_refused() {
        assert!(check_bucket("k", &Bucket::per_second(1, 1_000_000)).is_ok());
        let glacial = Bucket {
            rate: 1,
            period: Duration::from_secs(365 * 24 * 60 * 60),
            burst: 101,
        };
        let err = check_bucket("k", &glacial).unwrap_err();
        assert!(
            matches!(&err, StoreFailure::Invalid(m) if m.contains("over 100 years")),
            "{err}"
        );
        let zero_rate = Bucket::per_second(0, 1);
        assert_eq!(
            check_bucket("k", &zero_rate),
            Err(StoreFailure::Invalid(
                "bucket rate must be at least 1".into()
            ))
        );
    }

    #[test]
    fn kv_values_are_capped_and_ttls_shortened() {
        let ttl = check_kv_set("k", b"v", Duration::from_secs(7 * 24 * 60 * 60)).unwrap();
        assert_eq!(ttl, MAX_TTL);
        let too_big = vec![0; MAX_VALUE_BYTES + 1];
        let err = check_kv_set("k", &too_big, Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            err,
            StoreFailure::Invalid("value of 65537 bytes is over the 65536-byte cap".into())
        );
        assert!(check_kv_set("k", b"v", Duration::from_micros(999)).is_err());
        assert!(check_quota("k", MAX_QUOTA_LIMIT).is_ok());
        assert!(check_quota("k", MAX_QUOTA_LIMIT + 1).is_err());
    }
}
