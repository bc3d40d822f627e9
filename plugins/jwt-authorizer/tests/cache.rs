//! The verification cache in the `kv` store: hits skip verification, entries never outlive the
//! TTL or the token's `exp`, route requirements are still checked, store errors are misses.
//!
//! A hit is told from a fresh verification by removing the token's key from the JWKS document
//! after the first request: only a cached entry still lets the token through.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use jwt_authorizer::JwtAuthorizer;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{self, FakeContext};

fn set_jwks(names: &[&str]) {
    testing::set_document("jwks", jwks(names).to_string().as_bytes());
}

fn cached(ttl: &str, extra: Value) -> JwtAuthorizer {
    let mut config = json!({ "jwks_document": "jwks", "cache_ttl": ttl });
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    plugin(config)
}

/// A token of key `rsa-1` expiring `exp_in` seconds after [`NOW`], verified once (and so
/// cached), after which `rsa-1` leaves the JWKS document.
fn verified_then_key_removed(plugin: &JwtAuthorizer, exp_in: u64) -> String {
    let mut claims = claims();
    claims["exp"] = json!(NOW + exp_in);
    let token = sign(Algorithm::RS256, "rsa-1", &claims);
    assert!(accepts(plugin, &token));
    set_jwks(&["rsa-2"]);
    token
}

#[test]
fn serves_a_verified_token_from_the_cache() {
    freeze();
    set_jwks(&["rsa-1"]);
    let plugin = cached("5m", json!({}));
    let token = verified_then_key_removed(&plugin, 600);
    let (action, context) = run(&plugin, &mut bearer(&token));
    assert!(action.is_continue());
    assert_eq!(context.get("auth.principal"), Some("alice"));
}

#[test]
fn expires_entries_after_the_ttl() {
    freeze();
    set_jwks(&["rsa-1"]);
    let plugin = cached("10s", json!({}));
    let token = verified_then_key_removed(&plugin, 600);
    testing::advance_clock(Duration::from_secs(9));
    assert!(accepts(&plugin, &token));
    testing::advance_clock(Duration::from_secs(2));
    assert_invalid(&refuse(&plugin, &token), "key id is unknown");
}

#[test]
fn never_caches_beyond_the_token_expiry() {
    freeze();
    set_jwks(&["rsa-1"]);
    // The TTL is 5 minutes but the token expires in 60 s; the 30 s leeway would still let a
    // fresh verification accept it at +61 s, so only the cache entry's own expiry is tested.
    let plugin = cached("5m", json!({}));
    let token = verified_then_key_removed(&plugin, 60);
    testing::advance_clock(Duration::from_secs(59));
    assert!(accepts(&plugin, &token));
    testing::advance_clock(Duration::from_secs(2));
    assert_invalid(&refuse(&plugin, &token), "key id is unknown");
}

#[test]
fn checks_route_requirements_on_cached_tokens() {
    freeze();
    set_jwks(&["rsa-1"]);
    let plugin = cached(
        "5m",
        json!({ "routes": { "orders-delete": { "scopes": ["orders:admin"] } } }),
    );
    let token = verified_then_key_removed(&plugin, 600);
    let context = FakeContext::new().with("gateway.route-id", "orders-delete");
    let (action, _) = run_on(&plugin, &mut bearer(&token), context);
    let refusal = refusal(&action);
    assert_eq!(
        (refusal.status, refusal.error_type.as_str()),
        (403, "ACCESS_DENIED")
    );
}

#[test]
fn does_not_share_entries_between_configurations() {
    freeze();
    set_jwks(&["rsa-1"]);
    let lenient = cached("5m", json!({}));
    let strict = cached("5m", json!({ "audience": "billing-api" }));
    let token = sign(Algorithm::RS256, "rsa-1", &claims());
    assert!(accepts(&lenient, &token));
    assert_invalid(&refuse(&strict, &token), "audience");
}

#[test]
fn does_not_cache_refused_tokens() {
    freeze();
    set_jwks(&["rsa-1"]);
    let plugin = cached("5m", json!({ "issuer": "https://other.example.com/" }));
    let token = sign(Algorithm::RS256, "rsa-1", &claims());
    assert_invalid(&refuse(&plugin, &token), "issuer");
    assert_invalid(&refuse(&plugin, &token), "issuer");
}

#[test]
fn verifies_every_time_when_the_store_is_unavailable() {
    freeze();
    set_jwks(&["rsa-1"]);
    let plugin = cached("5m", json!({}));
    testing::set_store_unavailable(true);
    let token = verified_then_key_removed(&plugin, 600);
    assert_invalid(&refuse(&plugin, &token), "key id is unknown");
    set_jwks(&["rsa-1"]);
    assert!(accepts(&plugin, &token));
}

#[test]
fn makes_no_store_calls_without_a_ttl() {
    freeze();
    set_jwks(&["rsa-1"]);
    // Every store call fails and is logged: no line means no call.
    testing::set_store_unavailable(true);
    for config in [
        json!({ "jwks_document": "jwks" }),
        json!({ "jwks_document": "jwks", "cache_ttl": "0s" }),
    ] {
        let plugin = plugin(config);
        testing::take_log_lines();
        assert!(accepts(
            &plugin,
            &sign(Algorithm::RS256, "rsa-1", &claims())
        ));
        let store_calls = testing::take_log_lines()
            .into_iter()
            .filter(|line| line.message == "token cache unavailable")
            .count();
        assert_eq!(store_calls, 0);
    }
    // With a TTL, the same request tries the store (and still succeeds).
    let plugin = cached("5m", json!({}));
    testing::take_log_lines();
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
    assert!(
        testing::take_log_lines()
            .iter()
            .any(|line| line.message == "token cache unavailable")
    );
}
