//! What every backend refuses, the same way, before touching any state: the plugin contract's
//! store rules ([`wasmgate_plugin_contract::store`], which the gateway's plugin host and the
//! SDK's fake host apply to a plugin's own key and arguments), and a bound on the stored key,
//! which carries the plugin's namespace too. A call refused here fails with
//! [`StoreFailure::Invalid`] and the message says which bound it crossed.

use std::time::Duration;

use wasmgate_plugin_contract::rate_limit::Bucket;
use wasmgate_plugin_contract::store as rules;

use crate::StoreFailure;

pub use wasmgate_plugin_contract::store::{
    MAX_BURST_WINDOW, MAX_KEY_BYTES, MAX_QUOTA_LIMIT, MAX_TTL, MAX_VALUE_BYTES, MIN_TTL,
    burst_window_us,
};

/// Room for the namespace the gateway puts in front of a plugin's key (`plugin:`).
pub const MAX_NAMESPACE_BYTES: usize = 1024;

/// The longest key a backend stores: a plugin's key (at most [`MAX_KEY_BYTES`]) in its
/// namespace.
pub const MAX_STORED_KEY_BYTES: usize = MAX_KEY_BYTES + MAX_NAMESPACE_BYTES;

/// Refuses empty keys and keys over [`MAX_STORED_KEY_BYTES`].
pub(crate) fn check_key(key: &str) -> Result<(), StoreFailure> {
    if key.is_empty() {
        return Err(StoreFailure::Invalid("empty key".into()));
    }
    if key.len() > MAX_STORED_KEY_BYTES {
        return Err(StoreFailure::Invalid(format!(
            "stored key of {} bytes is over the {MAX_STORED_KEY_BYTES}-byte cap",
            key.len()
        )));
    }
    Ok(())
}

/// Refuses invalid buckets and buckets that take too long to refill.
pub(crate) fn check_bucket(key: &str, bucket: &Bucket) -> Result<(), StoreFailure> {
    check_key(key)?;
    rules::check_bucket(bucket).map_err(StoreFailure::Invalid)
}

/// Refuses quota limits over [`MAX_QUOTA_LIMIT`].
pub(crate) fn check_quota(key: &str, limit: u64) -> Result<(), StoreFailure> {
    check_key(key)?;
    rules::check_quota(limit).map_err(StoreFailure::Invalid)
}

/// Checks a key-value write and returns the TTL to apply (capped at [`MAX_TTL`]).
pub(crate) fn check_kv_set(
    key: &str,
    value: &[u8],
    ttl: Duration,
) -> Result<Duration, StoreFailure> {
    check_key(key)?;
    rules::check_kv_set(value, ttl).map_err(StoreFailure::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_keys_have_room_for_the_namespace() {
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(MAX_STORED_KEY_BYTES)).is_ok());
        assert_eq!(
            check_key(&"k".repeat(MAX_STORED_KEY_BYTES + 1)),
            Err(StoreFailure::Invalid(
                "stored key of 5121 bytes is over the 5120-byte cap".into()
            ))
        );
    }
}
