//! The algorithms of the `crypto` capability, named as JWS names them (RFC 7518).

use std::fmt;
use std::str::FromStr;

/// A signature algorithm, by its JWS name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignatureAlgorithm {
    /// HMAC with SHA-256 (`HS256`).
    Hs256,
    /// HMAC with SHA-384 (`HS384`).
    Hs384,
    /// HMAC with SHA-512 (`HS512`).
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (`RS384`).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (`RS512`).
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1 (`PS256`).
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1 (`PS384`).
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1 (`PS512`).
    Ps512,
    /// ECDSA on P-256 with SHA-256, signature `r || s` (`ES256`).
    Es256,
    /// ECDSA on P-384 with SHA-384, signature `r || s` (`ES384`).
    Es384,
    /// Ed25519 (`EdDSA`).
    EdDsa,
}

impl SignatureAlgorithm {
    /// Every algorithm, in the order messages list them.
    pub const ALL: [SignatureAlgorithm; 12] = [
        Self::Hs256,
        Self::Hs384,
        Self::Hs512,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::EdDsa,
    ];

    /// The JWS name, e.g. `RS256`.
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

/// A name that is not a supported JWS signature algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature algorithm `{0}`")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for SignatureAlgorithm {
    type Err = UnknownAlgorithm;

    /// Parses a JWS name (case-sensitive, as RFC 7515 says `alg` is).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.jws_name() == name)
            .ok_or_else(|| UnknownAlgorithm(name.to_owned()))
    }
}

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
}
