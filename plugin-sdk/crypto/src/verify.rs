//! Keys parsed once and the checks they make: signature verification (ring), digests and
//! constant-time comparison.

use ring::signature::{self as ring_sig, UnparsedPublicKey};
use subtle::ConstantTimeEq;

use crate::{DigestAlgorithm, KeyError, KeyFormat, SignatureAlgorithm};

/// A public key (or an HMAC secret) parsed and checked once, ready to verify signatures.
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) kind: KeyKind,
}

/// An HMAC secret keyed for each hash (boxed: ring's keys are large).
#[derive(Clone)]
pub(crate) struct HmacKeys {
    pub(crate) sha256: ring::hmac::Key,
    pub(crate) sha384: ring::hmac::Key,
    pub(crate) sha512: ring::hmac::Key,
}

/// The parsed key material, by type.
#[derive(Clone)]
pub(crate) enum KeyKind {
    /// One ring key per HMAC hash (the secret is keyed once for each).
    Hmac(Box<HmacKeys>),
    /// Big-endian modulus and exponent, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed SEC1 point on P-256.
    P256(Vec<u8>),
    /// An uncompressed SEC1 point on P-384.
    P384(Vec<u8>),
    /// The 32 bytes of an Ed25519 public key.
    Ed25519(Vec<u8>),
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.debug_struct("VerifyingKey")
            .field("algorithms", &self.algorithms())
            .finish()
    }
}

impl VerifyingKey {
    /// Parses and checks `material` written in `format`: RSA keys of at least
    /// [`MIN_RSA_BITS`](crate::MIN_RSA_BITS), EC keys on P-256 or P-384 (a valid point), Ed25519 keys, HMAC
    /// secrets of at least [`MIN_HMAC_SECRET_BYTES`](crate::MIN_HMAC_SECRET_BYTES).
    pub fn import(format: KeyFormat, material: &[u8]) -> Result<Self, KeyError> {
        crate::import::import(format, material)
    }

    /// The algorithms the key can verify, given its type.
    pub fn algorithms(&self) -> &'static [SignatureAlgorithm] {
        use SignatureAlgorithm::*;
        match &self.kind {
            KeyKind::Hmac(_) => &[Hs256, Hs384, Hs512],
            KeyKind::Rsa { .. } => &[Rs256, Rs384, Rs512, Ps256, Ps384, Ps512],
            KeyKind::P256(_) => &[Es256],
            KeyKind::P384(_) => &[Es384],
            KeyKind::Ed25519(_) => &[EdDsa],
        }
    }

    /// Whether `signature` is a valid `algorithm` signature of `message` under this key. An
    /// algorithm the key cannot verify (an RSA key asked for HS256) is `false`.
    pub fn verify(&self, algorithm: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        use SignatureAlgorithm::*;
        let public = |params: &'static dyn ring_sig::VerificationAlgorithm, key: &[u8]| {
            UnparsedPublicKey::new(params, key)
                .verify(message, signature)
                .is_ok()
        };
        match (&self.kind, algorithm) {
            (KeyKind::Hmac(keys), Hs256) => hmac(&keys.sha256, message, signature),
            (KeyKind::Hmac(keys), Hs384) => hmac(&keys.sha384, message, signature),
            (KeyKind::Hmac(keys), Hs512) => hmac(&keys.sha512, message, signature),
            (KeyKind::Rsa { n, e }, _) => {
                let params: &ring_sig::RsaParameters = match algorithm {
                    Rs256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
                    Rs384 => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
                    Rs512 => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
                    Ps256 => &ring_sig::RSA_PSS_2048_8192_SHA256,
                    Ps384 => &ring_sig::RSA_PSS_2048_8192_SHA384,
                    Ps512 => &ring_sig::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                ring_sig::RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            (KeyKind::P256(point), Es256) => public(&ring_sig::ECDSA_P256_SHA256_FIXED, point),
            (KeyKind::P384(point), Es384) => public(&ring_sig::ECDSA_P384_SHA384_FIXED, point),
            (KeyKind::Ed25519(key), EdDsa) => public(&ring_sig::ED25519, key),
            _ => false,
        }
    }
}

fn hmac(key: &ring::hmac::Key, message: &[u8], tag: &[u8]) -> bool {
    ring::hmac::verify(key, message, tag).is_ok()
}

/// The digest of `data`.
pub fn digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    let algorithm = match algorithm {
        DigestAlgorithm::Sha256 => &ring::digest::SHA256,
        DigestAlgorithm::Sha384 => &ring::digest::SHA384,
        DigestAlgorithm::Sha512 => &ring::digest::SHA512,
    };
    ring::digest::digest(algorithm, data).as_ref().to_vec()
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths (for comparing
/// a secret, such as a key hash or a MAC, with what a client sent).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
