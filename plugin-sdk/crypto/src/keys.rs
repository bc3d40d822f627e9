//! What a key import is given and why it can fail: the same on every target, so a plugin
//! compiled to Wasm names them as the host does.

/// The shortest HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the output of
/// SHA-256).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;
/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits (ring's limit for verification).
pub const MAX_RSA_BITS: usize = 8192;
/// The largest key material an import reads, in bytes.
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// How a key's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// PEM text: `PUBLIC KEY` (SubjectPublicKeyInfo: RSA, EC P-256/P-384 or Ed25519) or
    /// `RSA PUBLIC KEY` (PKCS#1).
    Pem,
    /// The DER bytes of a SubjectPublicKeyInfo or of a PKCS#1 `RSAPublicKey`.
    Der,
    /// A JSON Web Key (RFC 7517) as JSON text: `kty` `RSA`, `EC`, `OKP` (Ed25519) or `oct`.
    Jwk,
    /// The raw bytes of an HMAC secret.
    HmacSecret,
}

/// Why a key cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not a key in the format given.
    #[error("{0}")]
    Malformed(String),
    /// A private key or a certificate where a public key belongs (the PEM label).
    #[error("a `{0}`, not a public key: configure the public key only (`openssl pkey -pubout`)")]
    NotAPublicKey(String),
    /// An RSA modulus below [`MIN_RSA_BITS`] (or above [`MAX_RSA_BITS`]).
    #[error(
        "an RSA key of {0} bits: at least {MIN_RSA_BITS} (and at most {MAX_RSA_BITS}) bits are required"
    )]
    RsaSize(usize),
    /// An HMAC secret below [`MIN_HMAC_SECRET_BYTES`].
    #[error("a secret of {0} bytes: at least {MIN_HMAC_SECRET_BYTES} bytes are required")]
    SecretTooShort(usize),
    /// A key type that is not supported (which one).
    #[error("unsupported key type: {0} (use RSA, EC P-256 or P-384, Ed25519, or an HMAC secret)")]
    UnsupportedKeyType(String),
    /// An EC or OKP key on a curve that is not supported (which one).
    #[error("unsupported curve {0}: use P-256 (ES256), P-384 (ES384) or Ed25519 (EdDSA)")]
    UnsupportedCurve(String),
    /// Well-formed, but not a valid key of its type (a point not on its curve, an even RSA
    /// exponent).
    #[error("invalid {0} public key")]
    Invalid(String),
    /// The plugin instance already holds this many keys, the most the host allows.
    #[error("the plugin already holds {0} keys, the most it may: drop keys it no longer uses")]
    TooManyKeys(u32),
}
