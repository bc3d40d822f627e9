//! Native per-request cost of the JWT authorizer (method-request stage, fake host), per
//! algorithm, verifying every time and with the `kv` cache hit:
//! `cargo run --release -p jwt_authorizer --example jwt_cost`.
//!
//! ```text
//! jwt-authorizer, native, fake host, per request:
//!   HS256  verify 2.672µs    cache hit 1.888µs    (RustCrypto's check alone 477ns)
//!   RS256  verify 30.326µs   cache hit 2.67µs     (RustCrypto's check alone 131.043µs)
//!   ES256  verify 42.191µs   cache hit 1.828µs    (RustCrypto's check alone 232.357µs)
//! ```
//!
//! (2026-12-04, 2-core VM with other work running: read the ratios more than the numbers.)
//! The fake host verifies through the same `crypto` implementation as the gateway (ring), so
//! a fresh verification is ring's check plus the plugin's own work (parsing, claims, context,
//! headers: about 2µs). The last column is jsonwebtoken's RustCrypto backend alone, which the
//! plugin ran inside Wasm before the `crypto` capability. The fake host's `kv` is an in-memory
//! map, so the cache-hit figure excludes the store's round trip: with Redis, a cache pays off
//! only for ES and EdDSA tokens.

use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_authorizer::JwtAuthorizer;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::clock;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name);
    std::fs::read_to_string(path).expect("key fixture")
}

fn config(cache_ttl: &str) -> Value {
    json!({
        "keys": [
            { "kid": "hs", "secret": SECRET },
            { "kid": "rsa", "pem": fixture("rsa-1.pub.pem") },
            { "kid": "ec", "pem": fixture("ec-p256.pub.pem") },
        ],
        "issuer": "https://idp.example.com/",
        "audience": "orders-api",
        "scopes": ["orders:read"],
        "claims_to_context": ["email"],
        "forward_headers": { "x-user-id": "sub" },
        "cache_ttl": cache_ttl,
    })
}

fn token(alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let now = clock::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({
        "sub": "alice", "iss": "https://idp.example.com/", "aud": "orders-api",
        "iat": now, "exp": now + 3600, "scope": "orders:read", "email": "alice@example.com",
    });
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, key).expect("signing")
}

/// The mean time of one method-request call over `n` calls.
fn per_request(plugin: &JwtAuthorizer, token: &str, n: u32) -> Duration {
    let authorization = format!("Bearer {token}");
    let start = Instant::now();
    for _ in 0..n {
        let mut request =
            FakeRequest::new("GET", "/orders").header("authorization", &authorization);
        let action = testing::method_request(plugin, &mut request, &mut FakeContext::new());
        assert!(action.is_continue(), "{action:?}");
    }
    start.elapsed() / n
}

/// The mean time of jsonwebtoken's RustCrypto signature check alone (what the plugin ran in
/// Wasm before the `crypto` capability).
fn signature_only(token: &str, key: &DecodingKey, n: u32) -> Duration {
    let header: Header = jsonwebtoken::decode_header(token).expect("header");
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let start = Instant::now();
    for _ in 0..n {
        assert!(
            jsonwebtoken::crypto::verify(signature, input.as_bytes(), key, header.alg).unwrap()
        );
    }
    start.elapsed() / n
}

fn main() {
    let verify = testing::init::<JwtAuthorizer>(config("0s")).expect("valid config");
    let cached = testing::init::<JwtAuthorizer>(config("5m")).expect("valid config");
    let hs_key = EncodingKey::from_secret(SECRET.as_bytes());
    let rsa_key = EncodingKey::from_rsa_pem(fixture("rsa-1.key.pem").as_bytes()).unwrap();
    let ec_key = EncodingKey::from_ec_pem(fixture("ec-p256.key.pem").as_bytes()).unwrap();
    let cases = [
        (
            "HS256",
            token(Algorithm::HS256, "hs", &hs_key),
            50_000,
            DecodingKey::from_secret(SECRET.as_bytes()),
        ),
        (
            "RS256",
            token(Algorithm::RS256, "rsa", &rsa_key),
            2_000,
            DecodingKey::from_rsa_pem(fixture("rsa-1.pub.pem").as_bytes()).unwrap(),
        ),
        (
            "ES256",
            token(Algorithm::ES256, "ec", &ec_key),
            2_000,
            DecodingKey::from_ec_pem(fixture("ec-p256.pub.pem").as_bytes()).unwrap(),
        ),
    ];
    println!("jwt-authorizer, native, fake host, per request:");
    for (name, token, n, key) in cases {
        let fresh = per_request(&verify, &token, n);
        let hit = per_request(&cached, &token, 50_000);
        let crypto = signature_only(&token, &key, n);
        println!(
            "  {name}  verify {fresh:<10?} cache hit {hit:<10?} (RustCrypto's check alone {crypto:?})"
        );
    }
}
