//! Key import: the formats a key arrives in, parsed and checked into a [`VerifyingKey`].

use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::verify::{HmacKeys, KeyKind, VerifyingKey};
use crate::{
    KeyError, KeyFormat, MAX_KEY_BYTES, MAX_RSA_BITS, MIN_HMAC_SECRET_BYTES, MIN_RSA_BITS,
};

pub(crate) fn import(format: KeyFormat, material: &[u8]) -> Result<VerifyingKey, KeyError> {
    if material.len() > MAX_KEY_BYTES {
        return Err(KeyError::Malformed(format!(
            "key material of {} bytes (at most {MAX_KEY_BYTES})",
            material.len()
        )));
    }
    let kind = match format {
        KeyFormat::HmacSecret => hmac(material)?,
        KeyFormat::Pem => from_pem(material)?,
        KeyFormat::Der => from_der(material)?,
        KeyFormat::Jwk => crate::jwk::from_jwk(material)?,
    };
    Ok(VerifyingKey { kind })
}

/// An HMAC secret, keyed for each hash.
pub(crate) fn hmac(secret: &[u8]) -> Result<KeyKind, KeyError> {
    if secret.len() < MIN_HMAC_SECRET_BYTES {
        return Err(KeyError::SecretTooShort(secret.len()));
    }
    Ok(KeyKind::Hmac(Box::new(HmacKeys {
        sha256: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
        sha384: ring::hmac::Key::new(ring::hmac::HMAC_SHA384, secret),
        sha512: ring::hmac::Key::new(ring::hmac::HMAC_SHA512, secret),
    })))
}

const BAD_PEM: &str = "not a PEM public key (expected `-----BEGIN PUBLIC KEY-----` with an RSA, \
                       EC P-256/P-384 or Ed25519 key, e.g. from `openssl pkey -pubout`)";

fn from_pem(material: &[u8]) -> Result<KeyKind, KeyError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(material)
        .map_err(|_| KeyError::Malformed(BAD_PEM.into()))?;
    match pem.label.as_str() {
        "PUBLIC KEY" => from_spki(&pem.contents),
        "RSA PUBLIC KEY" => from_pkcs1(&pem.contents),
        other => Err(KeyError::NotAPublicKey(other.to_owned())),
    }
}

fn from_der(der: &[u8]) -> Result<KeyKind, KeyError> {
    from_spki(der).or_else(|spki_error| from_pkcs1(der).map_err(|_| spki_error))
}

fn from_spki(der: &[u8]) -> Result<KeyKind, KeyError> {
    let (rest, spki) =
        SubjectPublicKeyInfo::from_der(der).map_err(|_| KeyError::Malformed(BAD_PEM.into()))?;
    if !rest.is_empty() {
        return Err(KeyError::Malformed(BAD_PEM.into()));
    }
    let algorithm = &spki.algorithm.algorithm;
    let key = spki.subject_public_key.data.as_ref();
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        from_pkcs1(key)
    } else if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|params| params.as_oid().ok());
        match curve {
            Some(curve) if curve == OID_EC_P256 => ec_point(key, Curve::P256),
            Some(curve) if curve == OID_NIST_EC_P384 => ec_point(key, Curve::P384),
            Some(curve) => Err(KeyError::UnsupportedCurve(curve.to_id_string())),
            None => Err(KeyError::Malformed(BAD_PEM.into())),
        }
    } else if *algorithm == OID_SIG_ED25519 {
        ed25519(key)
    } else {
        Err(KeyError::UnsupportedKeyType(format!(
            "algorithm OID {algorithm}"
        )))
    }
}

/// A PKCS#1 `RSAPublicKey`.
fn from_pkcs1(der: &[u8]) -> Result<KeyKind, KeyError> {
    let (_, key) = RSAPublicKey::from_der(der).map_err(|_| KeyError::Invalid("RSA".into()))?;
    rsa(key.modulus, key.exponent)
}

/// An RSA key from its big-endian modulus and exponent: the size ring verifies, and an odd
/// exponent from 3 to 2^33 − 1 (ring's bounds).
pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<KeyKind, KeyError> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let Some(first) = n.first() else {
        return Err(KeyError::Invalid("RSA".into()));
    };
    let bits = n.len() * 8 - first.leading_zeros() as usize;
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(KeyError::RsaSize(bits));
    }
    if e.is_empty() || e.len() > 8 {
        return Err(KeyError::Invalid("RSA".into()));
    }
    let exponent = e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    if exponent < 3 || exponent.is_multiple_of(2) || exponent >= 1 << 33 {
        return Err(KeyError::Invalid("RSA".into()));
    }
    Ok(KeyKind::Rsa {
        n: n.to_vec(),
        e: e.to_vec(),
    })
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The curves EC keys may be on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Curve {
    P256,
    P384,
}

/// An EC public key from its SEC1 point (compressed points are expanded: ring verifies
/// uncompressed ones).
pub(crate) fn ec_point(point: &[u8], curve: Curve) -> Result<KeyKind, KeyError> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    match curve {
        Curve::P256 => {
            let key = p256::PublicKey::from_sec1_bytes(point)
                .map_err(|_| KeyError::Invalid("EC".into()))?;
            Ok(KeyKind::P256(
                key.to_encoded_point(false).as_bytes().to_vec(),
            ))
        }
        Curve::P384 => {
            let key = p384::PublicKey::from_sec1_bytes(point)
                .map_err(|_| KeyError::Invalid("EC".into()))?;
            Ok(KeyKind::P384(
                key.to_encoded_point(false).as_bytes().to_vec(),
            ))
        }
    }
}

/// An Ed25519 public key: 32 bytes encoding a point on the curve.
pub(crate) fn ed25519(key: &[u8]) -> Result<KeyKind, KeyError> {
    let bytes: &[u8; 32] = key
        .try_into()
        .map_err(|_| KeyError::Invalid("Ed25519".into()))?;
    ed25519_dalek::VerifyingKey::from_bytes(bytes)
        .map_err(|_| KeyError::Invalid("Ed25519".into()))?;
    Ok(KeyKind::Ed25519(key.to_vec()))
}
