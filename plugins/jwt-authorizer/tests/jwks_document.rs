//! Keys from a JWKS document the gateway attaches (`[plugins.<name>.documents]`): rotation,
//! re-parsing only on a new version, and resilience to bad documents.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use jwt_authorizer::JwtAuthorizer;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing;

fn set_jwks(set: &Value) {
    testing::set_document("jwks", set.to_string().as_bytes());
}

fn from_document() -> JwtAuthorizer {
    plugin(json!({ "jwks_document": "jwks", "issuer": ISSUER }))
}

/// How many times the plugin parsed a JWKS version since the last call.
fn loads() -> usize {
    testing::take_log_lines()
        .iter()
        .filter(|line| line.message == "JWKS loaded")
        .count()
}

#[test]
fn accepts_tokens_signed_by_any_key_of_the_document() {
    freeze();
    set_jwks(&jwks(&["rsa-1", "ec-p256", "ec-p384", "ed25519"]));
    let plugin = from_document();
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::PS512, "rsa-1", &claims())
    ));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::ES256, "ec-p256", &claims())
    ));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::ES384, "ec-p384", &claims())
    ));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::EdDSA, "ed25519", &claims())
    ));
}

#[test]
fn accepts_a_rotated_key_once_it_appears_in_the_document() {
    freeze();
    set_jwks(&jwks(&["rsa-1"]));
    let plugin = from_document();
    let rotated = sign(Algorithm::RS256, "rsa-2", &claims());
    assert_invalid(&refuse(&plugin, &rotated), "key id is unknown");
    set_jwks(&jwks(&["rsa-1", "rsa-2"]));
    assert!(accepts(&plugin, &rotated));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
}

#[test]
fn stops_accepting_a_key_removed_from_the_document() {
    freeze();
    set_jwks(&jwks(&["rsa-1", "rsa-2"]));
    let plugin = from_document();
    let old = sign(Algorithm::RS256, "rsa-1", &claims());
    assert!(accepts(&plugin, &old));
    set_jwks(&jwks(&["rsa-2"]));
    assert_invalid(&refuse(&plugin, &old), "key id is unknown");
}

#[test]
fn parses_the_document_once_per_version() {
    freeze();
    set_jwks(&jwks(&["ec-p256"]));
    let plugin = from_document();
    let token = sign(Algorithm::ES256, "ec-p256", &claims());
    testing::take_log_lines();
    for _ in 0..3 {
        assert!(accepts(&plugin, &token));
    }
    assert_eq!(loads(), 1);
    set_jwks(&jwks(&["ec-p256", "ed25519"]));
    assert!(accepts(&plugin, &token));
    assert!(accepts(&plugin, &token));
    assert_eq!(loads(), 1);
}

#[test]
fn keeps_the_previous_keys_when_a_new_version_is_not_a_jwks() {
    freeze();
    set_jwks(&jwks(&["ec-p256"]));
    let plugin = from_document();
    let token = sign(Algorithm::ES256, "ec-p256", &claims());
    assert!(accepts(&plugin, &token));
    testing::set_document("jwks", b"<html>maintenance</html>");
    testing::take_log_lines();
    assert!(accepts(&plugin, &token));
    assert!(accepts(&plugin, &token));
    let errors: Vec<_> = testing::take_log_lines()
        .into_iter()
        .filter(|line| line.message.starts_with("JWKS document unusable"))
        .collect();
    assert_eq!(errors.len(), 1, "logged once: {errors:?}");
}

#[test]
fn skips_keys_it_cannot_use_and_keeps_the_others() {
    freeze();
    let mut encryption = jwk("rsa-2");
    encryption["use"] = json!("enc");
    let set = json!({ "keys": [
        { "kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA" },
        { "kty": "RSA", "kid": "broken" },
        encryption,
        jwk("rsa-1"),
    ]});
    set_jwks(&set);
    let plugin = from_document();
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::RS256, "rsa-2", &claims())),
        "key id is unknown",
    );
    let skipped = testing::take_log_lines()
        .into_iter()
        .filter(|line| line.message == "JWKS key skipped")
        .count();
    assert_eq!(skipped, 2);
}

#[test]
fn refuses_tokens_while_the_document_is_missing() {
    freeze();
    let plugin = plugin(json!({ "jwks_document": "not-attached" }));
    let refusal = refuse(&plugin, &sign(Algorithm::RS256, "rsa-1", &claims()));
    assert_invalid(&refusal, "key id is unknown");
    let logged = testing::take_log_lines();
    assert!(
        logged
            .iter()
            .any(|line| line.field("document") == Some("not-attached")),
        "{logged:?}"
    );
}

#[test]
fn combines_inline_keys_and_the_document() {
    freeze();
    set_jwks(&jwks(&["rsa-1"]));
    let plugin = plugin(json!({
        "jwks_document": "jwks",
        "keys": [{ "kid": "hs", "secret": SECRET }],
    }));
    assert!(accepts(&plugin, &sign(Algorithm::HS256, "hs", &claims())));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
}
