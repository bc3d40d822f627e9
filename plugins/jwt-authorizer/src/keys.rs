//! Verification keys: parsed from the inline config (HMAC secrets, PEM public keys) or from JWKs,
//! each bound to the algorithms it may verify, so an HS256 token can never be checked against an
//! RSA public key used as an HMAC secret. The gateway's `crypto` capability parses and checks
//! the key material and holds the key; the plugin keeps its handle.

use std::rc::Rc;

use serde_json::Value;
use thiserror::Error;
use wasmgate_plugin_sdk::crypto::{self, KeyFormat, MIN_HMAC_SECRET_BYTES, MIN_RSA_BITS};

pub(crate) use wasmgate_plugin_sdk::crypto::SignatureAlgorithm as Algorithm;

/// Every algorithm the plugin supports, in the order they are listed in messages.
pub(crate) const ALL_ALGORITHMS: [Algorithm; 12] = Algorithm::ALL;

/// Why a key cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// Not a PEM public key the host understands.
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
    /// An HMAC secret below [`MIN_HMAC_SECRET_BYTES`].
    #[error("a secret of {0} bytes: at least {MIN_HMAC_SECRET_BYTES} bytes are required")]
    SecretTooShort(usize),
    /// A curve the plugin does not verify.
    #[error("unsupported curve: use P-256 (ES256), P-384 (ES384) or Ed25519 (EdDSA)")]
    UnsupportedCurve,
    /// The bytes do not form a valid public key of their type.
    #[error("invalid {0} public key")]
    InvalidKey(String),
    /// A JWK that is not a well-formed RSA, EC, OKP or oct key.
    #[error("not a supported JWK (`kty` RSA, EC, OKP or oct with its parameters)")]
    BadJwk,
    /// An algorithm name that is not supported.
    #[error("{0}")]
    UnknownAlgorithm(String),
    /// The key's `alg` does not fit the key's type.
    #[error("algorithm {alg} does not fit this key (it verifies {fits})")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The algorithms the key type verifies.
        fits: String,
    },
    /// Every algorithm the key could verify is disabled by `algorithms`.
    #[error("the key verifies only {0}, which `algorithms` does not allow")]
    NotAllowed(String),
    /// Anything else the host refused the key for (e.g. an RSA key above 8192 bits).
    #[error("{0}")]
    Refused(crypto::KeyError),
}

/// A verification key and the algorithms it may verify.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// The key id tokens name in their `kid` header; `None` matches any token.
    pub(crate) kid: Option<String>,
    /// The algorithms this key verifies: its type's, narrowed by its `alg` and by the
    /// plugin's `algorithms`. Never empty.
    pub(crate) algorithms: Vec<Algorithm>,
    /// The key, held by the host (shared by the copies of a key set).
    pub(crate) key: Rc<crypto::Key>,
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
    name.parse().map_err(|_| {
        KeyError::UnknownAlgorithm(format!(
            "unknown algorithm `{name}`: use one of {}",
            names(&ALL_ALGORITHMS)
        ))
    })
}

/// `HS256, HS384` for messages.
pub(crate) fn names(algorithms: &[Algorithm]) -> String {
    let names: Vec<&str> = algorithms.iter().map(|alg| alg.jws_name()).collect();
    names.join(", ")
}

/// A key imported into the host, with the algorithms its type verifies.
pub(crate) type Imported = (Rc<crypto::Key>, Vec<Algorithm>);

/// Imports key material, translating the host's refusal into the plugin's messages (`bad`
/// stands for material that is not a key in its format at all).
fn import(format: KeyFormat, material: &[u8], bad: KeyError) -> Result<Imported, KeyError> {
    match crypto::Key::import(format, material) {
        Ok(key) => {
            let fits = key.algorithms();
            Ok((Rc::new(key), fits))
        }
        Err(error) => Err(match error {
            crypto::KeyError::Malformed(_) | crypto::KeyError::UnsupportedKeyType(_) => bad,
            crypto::KeyError::NotAPublicKey(label) => KeyError::NotAPublicKey(label),
            crypto::KeyError::RsaSize(bits) if bits < MIN_RSA_BITS => KeyError::RsaTooShort(bits),
            crypto::KeyError::SecretTooShort(bytes) => KeyError::SecretTooShort(bytes),
            crypto::KeyError::UnsupportedCurve(_) => KeyError::UnsupportedCurve,
            crypto::KeyError::Invalid(kind) => KeyError::InvalidKey(kind),
            other => KeyError::Refused(other),
        }),
    }
}

/// A key from an HMAC secret.
pub(crate) fn from_secret(secret: &[u8]) -> Result<Imported, KeyError> {
    import(KeyFormat::HmacSecret, secret, KeyError::BadJwk)
}

/// A key from a PEM public key (`PUBLIC KEY` of an RSA, EC P-256/P-384 or Ed25519 key, or
/// `RSA PUBLIC KEY`).
pub(crate) fn from_pem(pem: &str) -> Result<Imported, KeyError> {
    import(KeyFormat::Pem, pem.as_bytes(), KeyError::BadPem)
}

/// A key from a JWK; `Ok(None)` for a key meant for encryption (`"use": "enc"`), which is not
/// a signature key and is skipped.
pub(crate) fn from_jwk(value: &Value, allowed: &[Algorithm]) -> Result<Option<Key>, KeyError> {
    let member = |name: &str| match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(KeyError::BadJwk),
    };
    if !matches!(member("kty")?, Some("RSA" | "EC" | "OKP" | "oct")) {
        return Err(KeyError::BadJwk);
    }
    if member("use")? == Some("enc") {
        return Ok(None);
    }
    let kid = member("kid")?.map(str::to_owned);
    let alg = match member("alg")? {
        None => None,
        Some(name) => Some(name.parse::<Algorithm>().map_err(|_| {
            KeyError::UnknownAlgorithm(format!("`alg` {name} is not a signature algorithm"))
        })?),
    };
    let material = serde_json::to_vec(value).map_err(|_| KeyError::BadJwk)?;
    let (key, fits) = import(KeyFormat::Jwk, &material, KeyError::BadJwk)?;
    let algorithms = bind(&fits, alg, allowed)?;
    Ok(Some(Key {
        kid,
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
