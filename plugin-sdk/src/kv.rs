//! A small key-value store with expiry, shared by every instance of the plugin (and by every
//! gateway replica with the Redis store), e.g. to cache authorizer results.
//!
//! Needs the `kv` capability: `grants = ["kv"]` in the plugin's gateway config. Keys are private
//! to the plugin. Errors are returned as they are (no fail-open policy applies): treat them as a
//! cache miss or fail, as the plugin sees fit.
//!
//! ```
//! use std::time::Duration;
//! use wasmgate_plugin_sdk::kv;
//! kv::set("token:ab12", b"sub=alice", Duration::from_secs(60)).unwrap();
//! assert_eq!(kv::get("token:ab12").unwrap().as_deref(), Some(&b"sub=alice"[..]));
//! ```

use std::time::Duration;

use crate::StoreError;
use crate::host;

pub use wasmgate_plugin_contract::store::{MAX_KEY_BYTES, MAX_TTL, MAX_VALUE_BYTES, MIN_TTL};

/// The value under `key`, unless it is absent or expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    host::kv_get(key)
}

/// Stores `value` (at most [`MAX_VALUE_BYTES`]) under `key` (at most [`MAX_KEY_BYTES`]) for
/// `ttl` (at least [`MIN_TTL`]; longer than [`MAX_TTL`] is shortened to it).
pub fn set(key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
    host::kv_set(key, value, ttl)
}

/// Removes `key`; removing an absent key is not an error.
pub fn delete(key: &str) -> Result<(), StoreError> {
    host::kv_delete(key)
}
