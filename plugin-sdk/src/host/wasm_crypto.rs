//! The Wasm backend of [`crypto`](crate::crypto): the gateway's `crypto` import.

use wasmgate_crypto::{DigestAlgorithm, KeyError, KeyFormat, SignatureAlgorithm};

use crate::__bindings::wasmgate::plugin::crypto as wit;

/// A key held by the host: the handle of the import's `key` resource.
pub(crate) type CryptoKey = wit::Key;

pub(crate) fn crypto_import(format: KeyFormat, material: &[u8]) -> Result<CryptoKey, KeyError> {
    let format = match format {
        KeyFormat::Pem => wit::KeyFormat::Pem,
        KeyFormat::Der => wit::KeyFormat::Der,
        KeyFormat::Jwk => wit::KeyFormat::Jwk,
        KeyFormat::HmacSecret => wit::KeyFormat::HmacSecret,
    };
    wit::Key::import(format, material).map_err(|error| match error {
        wit::KeyError::Malformed(reason) => KeyError::Malformed(reason),
        wit::KeyError::NotAPublicKey(label) => KeyError::NotAPublicKey(label),
        wit::KeyError::RsaSize(bits) => KeyError::RsaSize(bits as usize),
        wit::KeyError::SecretTooShort(bytes) => KeyError::SecretTooShort(bytes as usize),
        wit::KeyError::UnsupportedKeyType(what) => KeyError::UnsupportedKeyType(what),
        wit::KeyError::UnsupportedCurve(what) => KeyError::UnsupportedCurve(what),
        wit::KeyError::Invalid(kind) => KeyError::Invalid(kind),
        wit::KeyError::TooManyKeys(count) => KeyError::TooManyKeys(count),
    })
}

pub(crate) fn crypto_algorithms(key: &CryptoKey) -> Vec<SignatureAlgorithm> {
    key.algorithms().into_iter().map(from_wit).collect()
}

pub(crate) fn crypto_verify(
    key: &CryptoKey,
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    key.verify(to_wit(algorithm), message, signature)
}

pub(crate) fn crypto_digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    let algorithm = match algorithm {
        DigestAlgorithm::Sha256 => wit::DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384 => wit::DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512 => wit::DigestAlgorithm::Sha512,
    };
    wit::digest(algorithm, data)
}

pub(crate) fn crypto_constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    wit::constant_time_equal(a, b)
}

fn to_wit(algorithm: SignatureAlgorithm) -> wit::SignatureAlgorithm {
    use wit::SignatureAlgorithm as Wit;
    match algorithm {
        SignatureAlgorithm::Hs256 => Wit::Hs256,
        SignatureAlgorithm::Hs384 => Wit::Hs384,
        SignatureAlgorithm::Hs512 => Wit::Hs512,
        SignatureAlgorithm::Rs256 => Wit::Rs256,
        SignatureAlgorithm::Rs384 => Wit::Rs384,
        SignatureAlgorithm::Rs512 => Wit::Rs512,
        SignatureAlgorithm::Ps256 => Wit::Ps256,
        SignatureAlgorithm::Ps384 => Wit::Ps384,
        SignatureAlgorithm::Ps512 => Wit::Ps512,
        SignatureAlgorithm::Es256 => Wit::Es256,
        SignatureAlgorithm::Es384 => Wit::Es384,
        SignatureAlgorithm::EdDsa => Wit::Eddsa,
    }
}

fn from_wit(algorithm: wit::SignatureAlgorithm) -> SignatureAlgorithm {
    use wit::SignatureAlgorithm as Wit;
    match algorithm {
        Wit::Hs256 => SignatureAlgorithm::Hs256,
        Wit::Hs384 => SignatureAlgorithm::Hs384,
        Wit::Hs512 => SignatureAlgorithm::Hs512,
        Wit::Rs256 => SignatureAlgorithm::Rs256,
        Wit::Rs384 => SignatureAlgorithm::Rs384,
        Wit::Rs512 => SignatureAlgorithm::Rs512,
        Wit::Ps256 => SignatureAlgorithm::Ps256,
        Wit::Ps384 => SignatureAlgorithm::Ps384,
        Wit::Ps512 => SignatureAlgorithm::Ps512,
        Wit::Es256 => SignatureAlgorithm::Es256,
        Wit::Es384 => SignatureAlgorithm::Es384,
        Wit::Eddsa => SignatureAlgorithm::EdDsa,
    }
}
