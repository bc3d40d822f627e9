//! A compact JWS (`header.payload.signature`, RFC 7515 §7.1): parsed without trusting anything,
//! then verified against a key, and only then are its claims read.

use crate::keys::Algorithm;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::InvalidToken;
use crate::keys::Key;

/// The longest token accepted, in bytes; longer ones are refused before any decoding.
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A structurally valid token whose signature has not been checked yet.
#[derive(Debug)]
pub(crate) struct Token<'a> {
    /// The header's `alg`, a supported signature algorithm (never `none`).
    pub(crate) alg: Algorithm,
    /// The header's `kid`, if any.
    pub(crate) kid: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
    /// The base64url payload.
    payload: &'a str,
    /// The signature, decoded.
    signature: Vec<u8>,
}

/// The header fields the plugin reads. Others are ignored, except `crit`.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Extensions the recipient must understand (RFC 7515 §4.1.11): the plugin understands
    /// none, so their presence rejects the token.
    #[serde(default)]
    crit: Option<Value>,
}

impl<'a> Token<'a> {
    /// Splits and decodes the token's structure: exactly three base64url parts, a JSON header
    /// with a supported `alg`, and no critical extensions.
    pub(crate) fn parse(token: &'a str) -> Result<Self, InvalidToken> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(InvalidToken::Malformed("longer than 16 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidToken::Malformed("not three dot-separated parts"));
        };
        let header_bytes = decode(header)?;
        let signature = decode(signature)?;
        if payload.is_empty() {
            return Err(InvalidToken::Malformed("a part is not base64url"));
        }
        let raw: RawHeader = serde_json::from_slice(&header_bytes)
            .map_err(|_| InvalidToken::Malformed("the header is not a JSON object with `alg`"))?;
        if raw.crit.is_some() {
            return Err(InvalidToken::CriticalExtension);
        }
        if raw.alg.eq_ignore_ascii_case("none") {
            return Err(InvalidToken::AlgNone);
        }
        let alg: Algorithm = raw
            .alg
            .parse()
            .map_err(|_| InvalidToken::UnsupportedAlgorithm)?;
        let signing_input = &token[..header.len() + 1 + payload.len()];
        Ok(Token {
            alg,
            kid: raw.kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// Whether `key` accepts the token's algorithm and its signature verifies.
    pub(crate) fn verifies_with(&self, key: &Key) -> bool {
        key.algorithms.contains(&self.alg)
            && key
                .key
                .verify(self.alg, self.signing_input.as_bytes(), &self.signature)
    }

    /// The claims: a JSON object. Call only once the signature has been verified.
    pub(crate) fn claims(&self) -> Result<Map<String, Value>, InvalidToken> {
        let bytes = decode(self.payload)?;
        serde_json::from_slice(&bytes)
            .map_err(|_| InvalidToken::Malformed("the claims are not a JSON object"))
    }
}

/// Decodes one base64url part (no padding, as JWS requires).
fn decode(part: &str) -> Result<Vec<u8>, InvalidToken> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| InvalidToken::Malformed("a part is not base64url"))
}
