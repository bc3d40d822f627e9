//! Verification keys: parsed from the inline config (HMAC secrets, PEM public keys) or from JWKs,
//! each bound to the algorithms it may verify, so an HS256 token can never be checked against an
//! RSA public key used as an HMAC secret.

use std::str::FromStr;

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use thiserror::Error;

/// Every algorithm the plugin supports, in the order they are listed in messages.
pub(crate) const ALL_ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The shortest HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub(crate) const MIN_SECRET_BYTES: usize = 32;
/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub(crate) const MIN_RSA_BITS: usize = 2048;

const HMAC: &[Algorithm] = &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
const RSA: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// Why a key cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// Not a PEM public key jsonwebtoken understands.
    #[error(
        "not a PEM public key (expected `-----BEGIN PUBLIC KEY-----` with an RSA, EC P-256/P-384 \
         or Ed25519 key, e.g. from `openssl pkey -pubout`)"
    )]
    BadPem,
    /// A private key or a certificate where a public key belongs.
    #[error("a `{0}`, not a public key: configure the public key only (`openssl pkey -pubout`)")]
    NotAPublicKey(String),
    /// An RSA modulus below [`MIN_RSA_BITS`].
    #[error("an RSA key of {0} bits: at least {MIN_RSA_BITS} bits are required")]
    RsaTooShort(usize),
    /// An HMAC secret below [`MIN_SECRET_BYTES`].
    #[error("a secret of {0} bytes: at least {MIN_SECRET_BYTES} bytes are required")]
    SecretTooShort(usize),
    /// A curve the plugin does not verify.
    #[error("unsupported curve: use P-256 (ES256), P-384 (ES384) or Ed25519 (EdDSA)")]
    UnsupportedCurve,
    /// The bytes do not form a valid public key of their type.
    #[error("invalid {0} public key")]
    InvalidKey(&'static str),
    /// A JWK that is not a well-formed RSA, EC, OKP or oct key.
    #[error("not a supported JWK (`kty` RSA, EC, OKP or oct with its parameters)")]
    BadJwk,
    /// An algorithm name that is not supported.
    #[error("{0}")]
    UnknownAlgorithm(String),
    /// The key's `alg` does not fit the key's type.
    #[error("algorithm {alg:?} does not fit this key (it verifies {fits})")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The algorithms the key type verifies.
        fits: String,
    },
    /// Every algorithm the key could verify is disabled by `algorithms`.
    #[error("the key verifies only {0}, which `algorithms` does not allow")]
    NotAllowed(String),
}

/// A verification key and the algorithms it may verify.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// The key id tokens name in their `kid` header; `None` matches any token.
    pub(crate) kid: Option<String>,
    /// The algorithms this key verifies: its type's, narrowed by its `alg` and by the
    /// plugin's `algorithms`. Never empty.
    pub(crate) algorithms: Vec<Algorithm>,
    /// The key material.
    pub(crate) key: DecodingKey,
}

/// A set of verification keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// A set of these keys.
    pub(crate) fn new(keys: Vec<Key>) -> Self {
        KeySet { keys }
    }

    /// The keys, in order.
    pub(crate) fn into_keys(self) -> Vec<Key> {
        self.keys
    }

    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys a token with this `kid` is checked against: the keys with that id and the keys
    /// without an id (any algorithm; the caller checks it).
    pub(crate) fn matching<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a Key> {
        self.keys
            .iter()
            .filter(move |key| key.kid.is_none() || key.kid.as_deref() == kid)
    }
}

/// Parses an algorithm name (`RS256`, …); `none` and unknown names get a message saying why.
pub(crate) fn parse_algorithm(name: &str) -> Result<Algorithm, KeyError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(KeyError::UnknownAlgorithm(
            "`none` (unsigned tokens) is never accepted".into(),
        ));
    }
    Algorithm::from_str(name).map_err(|_| {
        KeyError::UnknownAlgorithm(format!(
            "unknown algorithm `{name}`: use one of {}",
            names(&ALL_ALGORITHMS)
        ))
    })
}

/// `HS256, HS384` for messages.
pub(crate) fn names(algorithms: &[Algorithm]) -> String {
    let names: Vec<String> = algorithms.iter().map(|alg| format!("{alg:?}")).collect();
    names.join(", ")
}

/// A key from an HMAC secret.
pub(crate) fn from_secret(secret: &[u8]) -> Result<(DecodingKey, &'static [Algorithm]), KeyError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::SecretTooShort(secret.len()));
    }
    Ok((DecodingKey::from_secret(secret), HMAC))
}

/// A key from a PEM public key (`PUBLIC KEY` of an RSA, EC P-256/P-384 or Ed25519 key, or
/// `RSA PUBLIC KEY`).
pub(crate) fn from_pem(pem: &str) -> Result<(DecodingKey, &'static [Algorithm]), KeyError> {
    let label = pem
        .trim_start()
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .map(|(label, _)| label)
        .ok_or(KeyError::BadPem)?;
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(KeyError::NotAPublicKey(label.to_owned()));
    }
    let bytes = pem.as_bytes();
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        let der = key.try_get_as_bytes().map_err(|_| KeyError::BadPem)?;
        let (n, e) = (DEFAULT_PROVIDER
            .key_utils
            .rsa_pub_components_from_public_key)(der)
        .map_err(|_| KeyError::InvalidKey("RSA"))?;
        return Ok((rsa(&n, &e)?, RSA));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        let algorithms = ec_algorithms(point_len(&key))?;
        return Ok((checked(key, algorithms[0], "EC")?, algorithms));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        return Ok((ed25519(key)?, &[Algorithm::EdDSA]));
    }
    Err(KeyError::BadPem)
}

/// A key from a JWK; `Ok(None)` for a key meant for encryption (`"use": "enc"`), which is not
/// a signature key and is skipped.
pub(crate) fn from_jwk(
    value: &serde_json::Value,
    allowed: &[Algorithm],
) -> Result<Option<Key>, KeyError> {
    let jwk: Jwk = serde_json::from_value(value.clone()).map_err(|_| KeyError::BadJwk)?;
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Ok(None);
    }
    let (key, fits): (DecodingKey, &[Algorithm]) = match &jwk.algorithm {
        AlgorithmParameters::RSA(params) => {
            let key = DecodingKey::from_rsa_components(&params.n, &params.e)
                .map_err(|_| KeyError::InvalidKey("RSA"))?;
            match key.kind() {
                DecodingKeyKind::RsaModulusExponent { n, e } => (rsa(n, e)?, RSA),
                DecodingKeyKind::SecretOrDer(_) => return Err(KeyError::InvalidKey("RSA")),
            }
        }
        AlgorithmParameters::EllipticCurve(params) => {
            let fits = match params.curve {
                EllipticCurve::P256 => &[Algorithm::ES256],
                EllipticCurve::P384 => &[Algorithm::ES384],
                _ => return Err(KeyError::UnsupportedCurve),
            };
            let key = DecodingKey::from_ec_components(&params.x, &params.y)
                .map_err(|_| KeyError::InvalidKey("EC"))?;
            if ec_algorithms(point_len(&key)).ok() != Some(fits) {
                return Err(KeyError::InvalidKey("EC"));
            }
            (checked(key, fits[0], "EC")?, fits)
        }
        AlgorithmParameters::OctetKeyPair(params) => {
            if params.curve != EllipticCurve::Ed25519 {
                return Err(KeyError::UnsupportedCurve);
            }
            let key = DecodingKey::from_ed_components(&params.x)
                .map_err(|_| KeyError::InvalidKey("Ed25519"))?;
            (ed25519(key)?, &[Algorithm::EdDSA])
        }
        AlgorithmParameters::OctetKey(_) => {
            let key = DecodingKey::from_jwk(&jwk).map_err(|_| KeyError::BadJwk)?;
            let secret = key.try_get_as_bytes().map_err(|_| KeyError::BadJwk)?;
            from_secret(secret)?
        }
        _ => return Err(KeyError::BadJwk),
    };
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(alg) => Some(Algorithm::try_from(alg).map_err(|_| {
            KeyError::UnknownAlgorithm(format!("`alg` {alg} is not a signature algorithm"))
        })?),
    };
    let algorithms = bind(fits, alg, allowed)?;
    Ok(Some(Key {
        kid: jwk.common.key_id,
        algorithms,
        key,
    }))
}

/// The algorithms a key verifies: its type's (`fits`), narrowed to its own `alg` if it names
/// one, and to the plugin's `allowed` list.
pub(crate) fn bind(
    fits: &[Algorithm],
    alg: Option<Algorithm>,
    allowed: &[Algorithm],
) -> Result<Vec<Algorithm>, KeyError> {
    let own: Vec<Algorithm> = match alg {
        Some(alg) if fits.contains(&alg) => vec![alg],
        Some(alg) => {
            return Err(KeyError::AlgorithmMismatch {
                alg,
                fits: names(fits),
            });
        }
        None => fits.to_vec(),
    };
    let algorithms: Vec<Algorithm> = own
        .iter()
        .copied()
        .filter(|alg| allowed.contains(alg))
        .collect();
    if algorithms.is_empty() {
        return Err(KeyError::NotAllowed(names(&own)));
    }
    Ok(algorithms)
}

/// An RSA key from its big-endian modulus and exponent, at least [`MIN_RSA_BITS`] long.
fn rsa(n: &[u8], e: &[u8]) -> Result<DecodingKey, KeyError> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let Some(first) = n.first() else {
        return Err(KeyError::InvalidKey("RSA"));
    };
    if e.is_empty() || e.len() > 8 {
        return Err(KeyError::InvalidKey("RSA"));
    }
    let bits = n.len() * 8 - first.leading_zeros() as usize;
    if bits < MIN_RSA_BITS {
        return Err(KeyError::RsaTooShort(bits));
    }
    Ok(DecodingKey::from_rsa_raw_components(n, e))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The length of an EC key's SEC1 point (0 if the key holds no bytes).
fn point_len(key: &DecodingKey) -> usize {
    key.try_get_as_bytes().map_or(0, <[u8]>::len)
}

/// The algorithm of an uncompressed SEC1 point of this length.
fn ec_algorithms(point_len: usize) -> Result<&'static [Algorithm], KeyError> {
    match point_len {
        65 => Ok(&[Algorithm::ES256]),
        97 => Ok(&[Algorithm::ES384]),
        _ => Err(KeyError::UnsupportedCurve),
    }
}

/// An Ed25519 key: exactly 32 bytes, and a valid curve point.
fn ed25519(key: DecodingKey) -> Result<DecodingKey, KeyError> {
    if point_len(&key) != 32 {
        return Err(KeyError::InvalidKey("Ed25519"));
    }
    checked(key, Algorithm::EdDSA, "Ed25519")
}

/// Makes the crypto backend parse the key once, so an invalid point fails now rather than on
/// every request (the check verifies an empty signature, which only fails on the key itself).
fn checked(key: DecodingKey, alg: Algorithm, kind: &'static str) -> Result<DecodingKey, KeyError> {
    match jsonwebtoken::crypto::verify("", b"", &key, alg) {
        Ok(_) => Ok(key),
        Err(_) => Err(KeyError::InvalidKey(kind)),
    }
}
