//! Shared helpers: the test keys (`fixtures/keys`, see `generate.sh`), token signing with
//! jsonwebtoken's encoding side, a frozen clock, and running the plugin on the fake host.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_authorizer::JwtAuthorizer;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
use wasmgate_plugin_sdk::{Action, InitError, ResponseData};

/// The frozen "now" of the tests, in seconds since the epoch.
pub const NOW: u64 = 1_750_000_000;
pub const ISSUER: &str = "https://idp.example.com/";
pub const AUDIENCE: &str = "orders-api";
/// A 32-byte HMAC secret.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// The text of a key fixture, e.g. `rsa-1.pub.pem`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A JWK fixture as JSON, e.g. `rsa-1.jwk.json`.
pub fn jwk(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("{name}.jwk.json"))).expect("JWK fixture")
}

/// A JWK set of these fixtures.
pub fn jwks(names: &[&str]) -> Value {
    json!({ "keys": names.iter().map(|name| jwk(name)).collect::<Vec<_>>() })
}

/// Freezes the clock at [`NOW`].
pub fn freeze() {
    testing::freeze_clock(UNIX_EPOCH + Duration::from_secs(NOW));
}

/// Claims valid at [`NOW`] for 10 minutes.
pub fn claims() -> Value {
    json!({
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": NOW,
        "exp": NOW + 600,
        "scope": "orders:read orders:write",
        "email": "alice@example.com",
        "tenant": "acme",
    })
}

/// The signing key for an algorithm: the HMAC [`SECRET`], or the private key fixture `name`.
pub fn signing_key(alg: Algorithm, name: &str) -> EncodingKey {
    let pem = || fixture(&format!("{name}.key.pem"));
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(SECRET.as_bytes())
        }
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem().as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem().as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem().as_bytes()).unwrap(),
    }
}

/// A token signed with `key`, with this `kid` and claims.
pub fn sign_with(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("signing")
}

/// A token signed by fixture key `name` (ignored for HMAC), with `kid` = `name`.
pub fn sign(alg: Algorithm, name: &str, claims: &Value) -> String {
    sign_with(alg, &signing_key(alg, name), Some(name), claims)
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn plugin(config: Value) -> JwtAuthorizer {
    testing::init::<JwtAuthorizer>(config).expect("valid config")
}

pub fn config_error(config: Value) -> String {
    match testing::init::<JwtAuthorizer>(config) {
        Err(InitError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

/// A `GET /orders` with `authorization: Bearer <token>`.
pub fn bearer(token: &str) -> FakeRequest {
    FakeRequest::new("GET", "/orders").header("authorization", format!("Bearer {token}"))
}

/// Runs the method-request stage on the default route.
pub fn run(plugin: &JwtAuthorizer, request: &mut FakeRequest) -> (Action, FakeContext) {
    run_on(plugin, request, FakeContext::new())
}

/// Runs the method-request stage with this context.
pub fn run_on(
    plugin: &JwtAuthorizer,
    request: &mut FakeRequest,
    mut context: FakeContext,
) -> (Action, FakeContext) {
    let action = testing::method_request(plugin, request, &mut context);
    (action, context)
}

/// Whether the plugin lets a bearer token through.
pub fn accepts(plugin: &JwtAuthorizer, token: &str) -> bool {
    run(plugin, &mut bearer(token)).0.is_continue()
}

/// A refusal, as the client sees it.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub error_type: String,
    pub challenge: String,
    pub message: String,
    pub body: String,
}

pub fn refusal(action: &Action) -> Refusal {
    let response: &ResponseData = action.response().expect("expected a refusal");
    let body: Value = serde_json::from_slice(&response.body).expect("JSON error body");
    Refusal {
        status: response.status,
        error_type: body["type"].as_str().unwrap_or_default().to_owned(),
        challenge: response
            .header_str("www-authenticate")
            .unwrap_or_default()
            .to_owned(),
        message: body["message"].as_str().unwrap_or_default().to_owned(),
        body: response.body_str().unwrap_or_default().to_owned(),
    }
}

/// The refusal of a bearer token.
pub fn refuse(plugin: &JwtAuthorizer, token: &str) -> Refusal {
    let (action, _) = run(plugin, &mut bearer(token));
    let refusal = refusal(&action);
    assert!(!refusal.body.contains(token), "the body echoes the token");
    refusal
}

/// Asserts a 401 `invalid_token` whose message contains `reason`.
pub fn assert_invalid(refusal: &Refusal, reason: &str) {
    assert_eq!(refusal.status, 401, "{refusal:?}");
    assert_eq!(refusal.error_type, "UNAUTHORIZED");
    assert_eq!(refusal.challenge, r#"Bearer error="invalid_token""#);
    assert!(
        refusal.message.contains(reason),
        "expected `{reason}` in {refusal:?}"
    );
}
