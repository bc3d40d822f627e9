//! The native backend of [`crypto`](crate::crypto): the gateway's own implementation
//! ([`wasmgate_crypto`]), called directly, so native tests verify what the gateway verifies.

use wasmgate_crypto::{DigestAlgorithm, KeyError, KeyFormat, SignatureAlgorithm, VerifyingKey};

/// A key held by the fake host: the parsed key itself.
pub(crate) type CryptoKey = VerifyingKey;

pub(crate) fn crypto_import(format: KeyFormat, material: &[u8]) -> Result<CryptoKey, KeyError> {
    VerifyingKey::import(format, material)
}

pub(crate) fn crypto_algorithms(key: &CryptoKey) -> Vec<SignatureAlgorithm> {
    key.algorithms().to_vec()
}

pub(crate) fn crypto_verify(
    key: &CryptoKey,
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    key.verify(algorithm, message, signature)
}

pub(crate) fn crypto_digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    wasmgate_crypto::digest(algorithm, data)
}

pub(crate) fn crypto_constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    wasmgate_crypto::constant_time_eq(a, b)
}
