//! The plugin's config as the operator writes it: the serde surface ([`Config`]). It is turned
//! into the validated [`Policy`](crate::policy::Policy) by `policy.rs`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The `config` table of a `jwt-authorizer` plugin; see the crate docs for a full example.
///
/// It also derives `Serialize`: the serialised config salts the cache keys, so entries verified
/// under another configuration are never reused.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `token = { header = "authorization", scheme = "Bearer" }` (the default),
    /// `{ header = "x-access-token" }`, `{ cookie = "session" }` or `{ query = "access_token" }`.
    pub(crate) token: Option<TokenSection>,
    /// `algorithms = ["RS256", "ES256"]`: the algorithms accepted (default: all supported —
    /// HS256/384/512, RS256/384/512, PS256/384/512, ES256, ES384, EdDSA). Each key still
    /// verifies only its own type's algorithms; `none` is never accepted.
    pub(crate) algorithms: Option<Vec<String>>,
    /// `keys = [{ kid = "hs-1", secret = "…" }, { kid = "rsa-1", pem = """-----BEGIN …""" }]`:
    /// inline keys.
    #[serde(default)]
    pub(crate) keys: Vec<KeySection>,
    /// `jwks = { keys = [{ kty = "EC", kid = "ec-1", crv = "P-256", x = "…", y = "…" }] }`: an
    /// inline JWK set (also accepted as a JSON string).
    pub(crate) jwks: Option<Value>,
    /// `jwks_document = "jwks"`: the JWK set attached as a document
    /// (`[plugins.<name>.documents] jwks = { url = "…" }` or `{ file = "…" }`).
    pub(crate) jwks_document: Option<String>,
    /// `issuer = "https://idp.example.com/"` or a list: `iss` must be one of them (default: not
    /// checked).
    pub(crate) issuer: Option<OneOrMany>,
    /// `audience = "orders-api"` or a list: `aud` must contain one of them (default: not
    /// checked).
    pub(crate) audience: Option<OneOrMany>,
    /// `leeway = "30s"`: clock skew allowed on `exp`, `nbf` and `iat` (default `30s`).
    pub(crate) leeway: Option<String>,
    /// `require_exp = false`: accept tokens without `exp` (default true: refuse them).
    pub(crate) require_exp: Option<bool>,
    /// `scopes = ["api"]`: scopes every request needs (from `scope` / `scp`).
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// `claims = { tenant = "acme", role = ["admin", "owner"] }`: claim values every request
    /// needs (a list means any of them).
    #[serde(default)]
    pub(crate) claims: BTreeMap<String, Value>,
    /// `routes = { "orders-delete" = { scopes = ["orders:admin"], claims = { … } } }`: more
    /// requirements on the route with that id (`gateway.route-id`).
    #[serde(default)]
    pub(crate) routes: BTreeMap<String, RouteSection>,
    /// `claims_to_context = ["email", "tenant"]`: claims copied to `auth.claim.<name>`.
    #[serde(default)]
    pub(crate) claims_to_context: Vec<String>,
    /// `forward_headers = { "x-user-id" = "sub" }`: request headers set from claims for the
    /// backend (client-sent copies are always removed).
    #[serde(default)]
    pub(crate) forward_headers: BTreeMap<String, String>,
    /// `cache_ttl = "5m"`: cache verified tokens in the `kv` store this long, never beyond
    /// their `exp` (default `0s`: no cache, no `kv` calls).
    pub(crate) cache_ttl: Option<String>,
}

/// `token = { … }`: exactly one of `header`, `cookie`, `query`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenSection {
    /// `header = "authorization"`: read the token from this header.
    pub(crate) header: Option<String>,
    /// `scheme = "Bearer"`: the header value is `<scheme> <token>` (default: `Bearer` for
    /// `authorization`, none for other headers).
    pub(crate) scheme: Option<String>,
    /// `cookie = "session"`: read the token from this cookie.
    pub(crate) cookie: Option<String>,
    /// `query = "access_token"`: read the token from this query parameter.
    pub(crate) query: Option<String>,
}

/// One `keys` entry: exactly one of `secret`, `secret_base64`, `pem`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeySection {
    /// `kid = "rsa-1"`: the key id tokens name; without one the key is tried for every token.
    pub(crate) kid: Option<String>,
    /// `alg = "PS256"`: the one algorithm this key verifies (default: all of its type's).
    pub(crate) alg: Option<String>,
    /// `secret = "…"`: an HMAC secret (its UTF-8 bytes, at least 32).
    pub(crate) secret: Option<String>,
    /// `secret_base64 = "…"`: an HMAC secret in base64 or base64url.
    pub(crate) secret_base64: Option<String>,
    /// `pem = """-----BEGIN PUBLIC KEY-----…"""`: an RSA (≥ 2048 bits), EC P-256/P-384 or
    /// Ed25519 public key.
    pub(crate) pem: Option<String>,
}

/// `routes."<route id>" = { scopes = [...], claims = {...} }`.
#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteSection {
    /// `scopes = ["orders:admin"]`: scopes this route needs on top of the global ones.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// `claims = { role = "admin" }`: claim values this route needs on top of the global ones.
    #[serde(default)]
    pub(crate) claims: BTreeMap<String, Value>,
}

/// A string or a list of strings.
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct OneOrMany(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;

        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![value.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor)
    }
}
