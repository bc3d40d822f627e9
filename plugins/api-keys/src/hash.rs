//! Key digests: the configuration holds the SHA-256 of each key, never the key. Why a plain
//! SHA-256 suffices and why the lookup needs no constant-time comparison: see the crate docs,
//! "Keys are stored hashed".

use wasmgate_plugin_sdk::crypto::{self, DigestAlgorithm};

/// The SHA-256 digest of a key.
pub(crate) type KeyDigest = [u8; 32];

/// The lower-case hex SHA-256 of `key`: the `hash` to write in the config or keys file for a
/// new key. The gateway's key-hashing command prints it.
///
/// ```
/// assert_eq!(
///     api_keys::hash_key("demo"),
///     "2a97516c354b68848cdbd8f54a226a0a55b21ed138e207ad6c5cbb9c00aa5aea"
/// );
/// ```
pub fn hash_key(key: &str) -> String {
    hex::encode(digest(key.as_bytes()))
}

/// The digest of the key bytes a client presented, computed by the host (`crypto`).
pub(crate) fn digest(key: &[u8]) -> KeyDigest {
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&crypto::digest(DigestAlgorithm::Sha256, key));
    digest
}

/// Parses a configured `hash`: 64 hex digits, either case.
pub(crate) fn parse_digest(hash: &str) -> Result<KeyDigest, String> {
    let mut digest = [0u8; 32];
    match hex::decode_to_slice(hash, &mut digest) {
        Ok(()) => Ok(digest),
        Err(_) => Err(format!(
            "not a SHA-256 digest: write the 64 hex digits of the key's SHA-256 (the gateway's \
             key-hashing command prints it), never the key itself (got {} characters)",
            hash.chars().count()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_their_hex_form() {
        let hex = hash_key("k-secret");
        assert_eq!(parse_digest(&hex), Ok(digest(b"k-secret")));
        assert_eq!(
            parse_digest(&hex.to_ascii_uppercase()),
            Ok(digest(b"k-secret"))
        );
    }

    #[test]
    fn a_plaintext_key_is_not_a_digest() {
        let err = parse_digest("my-secret-key").unwrap_err();
        assert!(err.starts_with("not a SHA-256 digest"), "{err}");
        assert!(!err.contains("my-secret-key"), "never echo the value");
    }
}
