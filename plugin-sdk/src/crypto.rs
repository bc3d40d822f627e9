//! Signature verification, digests and constant-time comparison, done natively by the host.
//!
//! Needs the `crypto` capability: `grants = ["crypto"]` in the plugin's gateway config. Big
//! number arithmetic compiled to Wasm is ten to twenty times slower than the host's (an RS256
//! check costs about 1.5 ms in a component, tens of microseconds on the host), so a plugin
//! imports its keys once — at `init`, or when the document holding them changes — keeps the
//! [`Key`] handles, and verifies with one host call per signature.
//!
//! Keys are parsed and checked at import: an RSA key under 2048 bits, an HMAC secret under 32
//! bytes, a point off its curve or a private key where a public key belongs is refused with a
//! [`KeyError`] saying why, so the plugin can fail its `init` with a message naming the key.
//! Natively (the SDK's fake host) the same implementation runs, so native tests verify exactly
//! what the gateway verifies.
//!
//! ```
//! use wasmgate_plugin_sdk::crypto::{self, Key, KeyFormat, SignatureAlgorithm};
//! let key = Key::import(KeyFormat::HmacSecret, b"0123456789abcdef0123456789abcdef")?;
//! assert!(key.algorithms().contains(&SignatureAlgorithm::Hs256));
//! assert!(!key.verify(SignatureAlgorithm::Hs256, b"header.payload", b"forged"));
//! assert_eq!(crypto::digest(crypto::DigestAlgorithm::Sha256, b"abc").len(), 32);
//! # Ok::<(), crypto::KeyError>(())
//! ```

pub use wasmgate_crypto::{
    DigestAlgorithm, KeyError, KeyFormat, MAX_KEY_BYTES, MAX_RSA_BITS, MIN_HMAC_SECRET_BYTES,
    MIN_RSA_BITS, SignatureAlgorithm, UnknownAlgorithm,
};

use crate::host;

/// A verification key (a public key or an HMAC secret) held by the host. Dropping it frees the
/// host's copy.
#[derive(Debug)]
pub struct Key {
    handle: host::CryptoKey,
}

impl Key {
    /// Parses and checks `material`, written in `format`.
    pub fn import(format: KeyFormat, material: &[u8]) -> Result<Key, KeyError> {
        host::crypto_import(format, material).map(|handle| Key { handle })
    }

    /// The algorithms the key's type verifies: HS* for a secret, RS* and PS* for RSA, ES256 or
    /// ES384 for its curve, EdDSA for Ed25519.
    pub fn algorithms(&self) -> Vec<SignatureAlgorithm> {
        host::crypto_algorithms(&self.handle)
    }

    /// Whether `signature` is a valid `algorithm` signature of `message` under this key; false
    /// as well when the key cannot verify `algorithm`.
    pub fn verify(&self, algorithm: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        host::crypto_verify(&self.handle, algorithm, message, signature)
    }
}

/// The digest of `data`.
pub fn digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    host::crypto_digest(algorithm, data)
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths: compare
/// secrets (a key's hash, a MAC) with this, not `==`.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    host::crypto_constant_time_eq(a, b)
}
