//! API keys as the `api-keys` plugin stores them: only the SHA-256 of a key (lower-case hex) is
//! ever written in config, never the key. `wasmgate hash-key` prints both for a new key.

use sha2::{Digest, Sha256};

/// The SHA-256 of `key`, lower-case hex: what goes in the plugin's `hash` field.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random key: 48 hex characters from the OS's random generator (taken from two v4
/// UUIDs: over 180 random bits), prefixed with `wg_` so leaked keys are easy to scan for.
pub fn generate_key() -> String {
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    format!("wg_{}", &random[..48])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        // printf 'secret-key' | sha256sum
        assert_eq!(
            hash_key("secret-key"),
            "85dbe15d75ef9308c7ae0f33c7a324cc6f4bf519a2ed2f3027bd33c140a4f9aa"
        );
    }

    #[test]
    fn generates_distinct_prefixed_keys() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a, b);
        assert!(a.starts_with("wg_") && a.len() == 51);
    }
}
