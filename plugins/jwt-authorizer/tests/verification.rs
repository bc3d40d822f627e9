//! Token verification against the SDK's fake host: every algorithm family, from inline keys
//! and JWK sets, and every way a token is refused.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_authorizer::JwtAuthorizer;
use serde_json::json;

/// A plugin with one inline key of every type, checking issuer and audience.
fn all_keys() -> JwtAuthorizer {
    plugin(json!({
        "keys": [
            { "kid": "hs", "secret": SECRET },
            { "kid": "rsa-1", "pem": fixture("rsa-1.pub.pem") },
            { "kid": "ec-p256", "pem": fixture("ec-p256.pub.pem") },
            { "kid": "ec-p384", "pem": fixture("ec-p384.pub.pem") },
            { "kid": "ed25519", "pem": fixture("ed25519.pub.pem") },
        ],
        "issuer": ISSUER,
        "audience": [AUDIENCE, "other-api"],
    }))
}

const EVERY_ALGORITHM: [(Algorithm, &str); 12] = [
    (Algorithm::HS256, "hs"),
    (Algorithm::HS384, "hs"),
    (Algorithm::HS512, "hs"),
    (Algorithm::RS256, "rsa-1"),
    (Algorithm::RS384, "rsa-1"),
    (Algorithm::RS512, "rsa-1"),
    (Algorithm::PS256, "rsa-1"),
    (Algorithm::PS384, "rsa-1"),
    (Algorithm::PS512, "rsa-1"),
    (Algorithm::ES256, "ec-p256"),
    (Algorithm::ES384, "ec-p384"),
    (Algorithm::EdDSA, "ed25519"),
];

#[test]
fn accepts_valid_tokens_of_every_algorithm_with_inline_keys() {
    freeze();
    let plugin = all_keys();
    for (alg, key) in EVERY_ALGORITHM {
        let token = sign(alg, key, &claims());
        assert!(
            accepts(&plugin, &token),
            "{alg:?} refused: {:?}",
            refuse(&plugin, &token)
        );
    }
}

#[test]
fn accepts_valid_tokens_with_keys_from_an_inline_jwk_set() {
    freeze();
    let plugin = plugin(json!({ "jwks": jwks(&["rsa-1", "ec-p256", "ec-p384", "ed25519"]) }));
    for (alg, key) in EVERY_ALGORITHM.into_iter().filter(|(_, key)| *key != "hs") {
        assert!(
            accepts(&plugin, &sign(alg, key, &claims())),
            "{alg:?} refused"
        );
    }
}

#[test]
fn accepts_a_jwk_set_given_as_a_json_string_and_an_oct_key() {
    freeze();
    let set = json!({ "keys": [{ "kty": "oct", "kid": "hs", "k": b64(SECRET.as_bytes()) }] });
    let plugin = plugin(json!({ "jwks": set.to_string() }));
    assert!(accepts(&plugin, &sign(Algorithm::HS256, "hs", &claims())));
}

#[test]
fn accepts_a_key_without_kid_for_tokens_with_or_without_kid() {
    freeze();
    let plugin = plugin(json!({ "keys": [{ "secret": SECRET }] }));
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    assert!(accepts(
        &plugin,
        &sign_with(Algorithm::HS256, &key, None, &claims())
    ));
    assert!(accepts(
        &plugin,
        &sign_with(Algorithm::HS256, &key, Some("any"), &claims())
    ));
}

#[test]
fn narrows_a_key_to_its_configured_algorithm() {
    freeze();
    let plugin = plugin(json!({
        "keys": [{ "kid": "rsa-1", "alg": "PS256", "pem": fixture("rsa-1.pub.pem") }],
    }));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::PS256, "rsa-1", &claims())
    ));
    let refusal = refuse(&plugin, &sign(Algorithm::RS256, "rsa-1", &claims()));
    assert_invalid(&refusal, "does not verify algorithm RS256");
}

#[test]
fn refuses_algorithms_left_out_of_the_allowed_list() {
    freeze();
    let plugin = plugin(json!({
        "algorithms": ["RS256"],
        "keys": [{ "kid": "rsa-1", "pem": fixture("rsa-1.pub.pem") }],
    }));
    assert!(accepts(
        &plugin,
        &sign(Algorithm::RS256, "rsa-1", &claims())
    ));
    let refusal = refuse(&plugin, &sign(Algorithm::PS256, "rsa-1", &claims()));
    assert_invalid(&refusal, "algorithm PS256 is not allowed");
}

#[test]
fn refuses_a_missing_token_with_a_bare_bearer_challenge() {
    let (action, _) = run(
        &all_keys(),
        &mut wasmgate_plugin_sdk::testing::FakeRequest::new("GET", "/"),
    );
    let refusal = refusal(&action);
    assert_eq!(refusal.status, 401);
    assert_eq!(refusal.error_type, "UNAUTHORIZED");
    assert_eq!(refusal.challenge, "Bearer");
    assert_eq!(
        refusal.message,
        "missing token (expected `authorization: Bearer <token>`)"
    );
}

#[test]
fn refuses_an_expired_token_beyond_the_leeway() {
    freeze();
    let plugin = all_keys();
    let mut within_leeway = claims();
    within_leeway["exp"] = json!(NOW - 29);
    assert!(accepts(
        &plugin,
        &sign(Algorithm::HS256, "hs", &within_leeway)
    ));
    let mut expired = claims();
    expired["exp"] = json!(NOW - 30);
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::HS256, "hs", &expired)),
        "expired",
    );
}

#[test]
fn refuses_a_token_without_exp_unless_allowed() {
    freeze();
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let token = sign(Algorithm::HS256, "hs", &no_exp);
    assert_invalid(&refuse(&all_keys(), &token), "no expiry");
    let lenient = plugin(json!({ "keys": [{ "secret": SECRET }], "require_exp": false }));
    assert!(accepts(&lenient, &token));
}

#[test]
fn refuses_a_token_not_valid_yet() {
    freeze();
    let mut early = claims();
    early["nbf"] = json!(NOW + 31);
    assert_invalid(
        &refuse(&all_keys(), &sign(Algorithm::HS256, "hs", &early)),
        "not valid yet",
    );
    early["nbf"] = json!(NOW + 30);
    assert!(accepts(&all_keys(), &sign(Algorithm::HS256, "hs", &early)));
}

#[test]
fn refuses_a_token_issued_in_the_future() {
    freeze();
    let mut future = claims();
    future["iat"] = json!(NOW + 120);
    let refusal = refuse(&all_keys(), &sign(Algorithm::HS256, "hs", &future));
    assert_invalid(&refusal, "issued in the future");
}

#[test]
fn refuses_time_claims_that_are_not_numbers() {
    freeze();
    let mut bad = claims();
    bad["exp"] = json!("tomorrow");
    assert_invalid(
        &refuse(&all_keys(), &sign(Algorithm::HS256, "hs", &bad)),
        "`exp`",
    );
}

#[test]
fn uses_a_configured_leeway() {
    freeze();
    let plugin = plugin(json!({ "keys": [{ "secret": SECRET }], "leeway": "0s" }));
    let mut just_expired = claims();
    just_expired["exp"] = json!(NOW);
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::HS256, "hs", &just_expired)),
        "expired",
    );
}

#[test]
fn refuses_a_wrong_issuer_or_audience() {
    freeze();
    let plugin = all_keys();
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("https://evil.example.com/");
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::HS256, "hs", &wrong_iss)),
        "issuer",
    );
    let mut no_iss = claims();
    no_iss.as_object_mut().unwrap().remove("iss");
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::HS256, "hs", &no_iss)),
        "issuer",
    );
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!(["billing-api", "search-api"]);
    assert_invalid(
        &refuse(&plugin, &sign(Algorithm::HS256, "hs", &wrong_aud)),
        "audience",
    );
    let mut one_of = claims();
    one_of["aud"] = json!(["billing-api", "other-api"]);
    assert!(accepts(&plugin, &sign(Algorithm::HS256, "hs", &one_of)));
}

#[test]
fn refuses_a_bad_signature() {
    freeze();
    let plugin = all_keys();
    // Signed by another RSA key, naming rsa-1.
    let other = signing_key(Algorithm::RS256, "rsa-2");
    let forged = sign_with(Algorithm::RS256, &other, Some("rsa-1"), &claims());
    assert_invalid(&refuse(&plugin, &forged), "signature is invalid");
    // A valid token whose claims were swapped.
    let token = sign(Algorithm::ES256, "ec-p256", &claims());
    let mut admin = claims();
    admin["sub"] = json!("admin");
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(admin.to_string().as_bytes()),
        parts[2]
    );
    assert_invalid(&refuse(&plugin, &tampered), "signature is invalid");
}

#[test]
fn refuses_unsigned_tokens() {
    freeze();
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
        let token = format!("{header}.{}.", b64(claims().to_string().as_bytes()));
        assert_invalid(&refuse(&all_keys(), &token), "`alg: none`");
    }
}

#[test]
fn refuses_an_hs256_token_signed_with_the_rsa_public_key_as_secret() {
    freeze();
    let public_pem = fixture("rsa-1.pub.pem");
    let confused = EncodingKey::from_secret(public_pem.as_bytes());
    let rsa_only = plugin(json!({ "keys": [{ "kid": "rsa-1", "pem": public_pem }] }));
    let named = sign_with(Algorithm::HS256, &confused, Some("rsa-1"), &claims());
    assert_invalid(
        &refuse(&rsa_only, &named),
        "does not verify algorithm HS256",
    );
    let anonymous = sign_with(Algorithm::HS256, &confused, None, &claims());
    assert_invalid(
        &refuse(&rsa_only, &anonymous),
        "no key verifies algorithm HS256",
    );
    let from_jwks = plugin(json!({ "jwks": jwks(&["rsa-1"]) }));
    assert_invalid(
        &refuse(&from_jwks, &named),
        "does not verify algorithm HS256",
    );
}

#[test]
fn refuses_an_unknown_kid() {
    freeze();
    let token = sign(Algorithm::RS256, "rsa-2", &claims());
    assert_invalid(&refuse(&all_keys(), &token), "key id is unknown");
}

#[test]
fn refuses_malformed_tokens() {
    freeze();
    let plugin = all_keys();
    let header = b64(br#"{"alg":"HS256"}"#);
    let payload = b64(claims().to_string().as_bytes());
    let cases: Vec<(String, &str)> = vec![
        ("abc".into(), "three dot-separated parts"),
        (format!("{header}.{payload}"), "three dot-separated parts"),
        (
            format!("{header}.{payload}.c2ln.extra"),
            "three dot-separated parts",
        ),
        (format!("!!!.{payload}.c2ln"), "not base64url"),
        (format!("{header}.{payload}.c2ln="), "not base64url"),
        (format!("{header}..c2ln"), "not base64url"),
        (
            format!("{}.{payload}.c2ln", b64(b"not json")),
            "header is not a JSON object",
        ),
        (
            format!("{}.{payload}.c2ln", b64(br#"{"typ":"JWT"}"#)),
            "header is not a JSON object",
        ),
        (
            format!("{}.{payload}.c2ln", b64(br#"{"alg":"HS999"}"#)),
            "not supported",
        ),
        (
            format!(
                "{}.{payload}.c2ln",
                b64(br#"{"alg":"HS256","crit":["exp"]}"#)
            ),
            "critical header",
        ),
        ("x".repeat(17 * 1024), "longer than 16 KiB"),
    ];
    for (token, reason) in cases {
        assert_invalid(&refuse(&plugin, &token), reason);
    }
}

#[test]
fn refuses_a_correctly_signed_payload_that_is_not_json() {
    freeze();
    let header = b64(br#"{"alg":"HS256","kid":"hs"}"#);
    let input = format!("{header}.{}", b64(b"not json"));
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
    let token = format!("{input}.{signature}");
    assert_invalid(&refuse(&all_keys(), &token), "claims are not a JSON object");
}

#[test]
fn ignores_other_authorization_schemes() {
    let mut request = wasmgate_plugin_sdk::testing::FakeRequest::new("GET", "/")
        .header("authorization", "Basic YWxpY2U6c2VjcmV0");
    let (action, _) = run(&all_keys(), &mut request);
    assert_eq!(refusal(&action).challenge, "Bearer");
}

#[test]
fn accepts_any_case_of_the_bearer_scheme() {
    freeze();
    let token = sign(Algorithm::HS256, "hs", &claims());
    let mut request = wasmgate_plugin_sdk::testing::FakeRequest::new("GET", "/")
        .header("authorization", format!("bearer {token}"));
    assert!(run(&all_keys(), &mut request).0.is_continue());
}
