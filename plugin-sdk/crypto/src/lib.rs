//! The native side of wasmgate's `crypto` plugin capability: verification keys imported once
//! and held by the host, signature verification, digests and constant-time comparison.
//!
//! The gateway's host calls this crate for plugins granted `crypto`; the SDK's fake host calls
//! it for native plugin tests, so a plugin verifies exactly the same signatures in both. Keys
//! are parsed and checked once, at `VerifyingKey::import`: a weak or malformed key fails
//! there, with a message saying why, never on a request.
//!
//! On `wasm32` only the shared types compile (the algorithms, key formats and errors), so the
//! SDK names them the same way in a component; the implementation is native only.
//!
//! ```
//! use wasmgate_crypto::{KeyFormat, SignatureAlgorithm, VerifyingKey};
//! let key = VerifyingKey::import(KeyFormat::HmacSecret, b"0123456789abcdef0123456789abcdef")?;
//! assert_eq!(key.algorithms(), &[SignatureAlgorithm::Hs256, SignatureAlgorithm::Hs384, SignatureAlgorithm::Hs512]);
//! assert!(!key.verify(SignatureAlgorithm::Hs256, b"message", b"not the tag"));
//! # Ok::<(), wasmgate_crypto::KeyError>(())
//! ```

mod algorithm;
mod keys;

#[cfg(not(target_arch = "wasm32"))]
mod import;
#[cfg(not(target_arch = "wasm32"))]
mod jwk;
#[cfg(not(target_arch = "wasm32"))]
mod verify;

pub use algorithm::{DigestAlgorithm, SignatureAlgorithm, UnknownAlgorithm};
pub use keys::{
    KeyError, KeyFormat, MAX_KEY_BYTES, MAX_RSA_BITS, MIN_HMAC_SECRET_BYTES, MIN_RSA_BITS,
};
#[cfg(not(target_arch = "wasm32"))]
pub use verify::{VerifyingKey, constant_time_eq, digest};

#[cfg(test)]
mod tests;
