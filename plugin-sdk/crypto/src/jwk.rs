//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037): the public members of `RSA`, `EC`, `OKP`
//! and `oct` keys. Other members (`kid`, `alg`, `use`) are the plugin's business.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::KeyError;
use crate::import::{self, Curve};
use crate::verify::KeyKind;

pub(crate) fn from_jwk(json: &[u8]) -> Result<KeyKind, KeyError> {
    let jwk: Map<String, Value> = serde_json::from_slice(json).map_err(|_| bad_jwk())?;
    match member(&jwk, "kty")?.as_str() {
        "RSA" => import::rsa(&bytes(&jwk, "n")?, &bytes(&jwk, "e")?),
        "EC" => {
            let curve = match member(&jwk, "crv")?.as_str() {
                "P-256" => Curve::P256,
                "P-384" => Curve::P384,
                other => return Err(KeyError::UnsupportedCurve(format!("`{other}`"))),
            };
            let (x, y) = (bytes(&jwk, "x")?, bytes(&jwk, "y")?);
            let size = match curve {
                Curve::P256 => 32,
                Curve::P384 => 48,
            };
            if x.len() != size || y.len() != size {
                return Err(KeyError::Invalid("EC".into()));
            }
            let point = [&[4u8][..], &x, &y].concat();
            import::ec_point(&point, curve)
        }
        "OKP" => match member(&jwk, "crv")?.as_str() {
            "Ed25519" => import::ed25519(&bytes(&jwk, "x")?),
            other => Err(KeyError::UnsupportedCurve(format!("`{other}`"))),
        },
        "oct" => import::hmac(&bytes(&jwk, "k")?),
        other => Err(KeyError::UnsupportedKeyType(format!("`kty` {other}"))),
    }
}

fn bad_jwk() -> KeyError {
    KeyError::Malformed(
        "not a supported JWK (`kty` RSA, EC, OKP or oct with its parameters)".into(),
    )
}

/// A string member.
fn member(jwk: &Map<String, Value>, name: &str) -> Result<String, KeyError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(bad_jwk)
}

/// A base64url member, decoded.
fn bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD
        .decode(member(jwk, name)?.trim_end_matches('='))
        .map_err(|_| bad_jwk())
}
