//! What a verified token grants: scopes and claim values (global and per route), the context
//! and headers it produces, and where the token is read from.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use jwt_authorizer::JwtAuthorizer;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{FakeContext, FakeRequest};

fn hs(extra: Value) -> JwtAuthorizer {
    let mut config = json!({ "keys": [{ "kid": "hs", "secret": SECRET }] });
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    plugin(config)
}

fn token_with(name: &str, value: Value) -> String {
    let mut claims = claims();
    claims[name] = value;
    sign(Algorithm::HS256, "hs", &claims)
}

fn on_route(route: &str) -> FakeContext {
    FakeContext::new().with("gateway.route-id", route)
}

#[test]
fn puts_the_principal_scopes_and_claims_in_the_context() {
    freeze();
    let plugin = hs(json!({ "claims_to_context": ["email", "tenant", "missing"] }));
    let mut token_claims = claims();
    token_claims["scp"] = json!(["admin", "orders:read"]);
    let token = sign(Algorithm::HS256, "hs", &token_claims);
    let (action, context) = run(&plugin, &mut bearer(&token));
    assert!(action.is_continue());
    assert_eq!(context.get("auth.principal"), Some("alice"));
    assert_eq!(
        context.get("auth.scopes"),
        Some("orders:read orders:write admin")
    );
    assert_eq!(context.get("auth.claim.email"), Some("alice@example.com"));
    assert_eq!(context.get("auth.claim.tenant"), Some("acme"));
    assert_eq!(context.get("auth.claim.missing"), None);
}

#[test]
fn requires_global_scopes() {
    freeze();
    let plugin = hs(json!({ "scopes": ["orders:read", "orders:admin"] }));
    let refusal = refuse(&plugin, &sign(Algorithm::HS256, "hs", &claims()));
    assert_eq!(refusal.status, 403);
    assert_eq!(refusal.error_type, "ACCESS_DENIED");
    assert_eq!(
        refusal.challenge,
        r#"Bearer error="insufficient_scope", scope="orders:admin""#
    );
    let granted = token_with("scope", json!("orders:admin orders:read"));
    assert!(accepts(&plugin, &granted));
}

#[test]
fn reads_scopes_from_an_scp_array_or_string() {
    freeze();
    let plugin = hs(json!({ "scopes": ["orders:admin"] }));
    let mut array = claims();
    array["scp"] = json!(["orders:admin"]);
    assert!(accepts(&plugin, &sign(Algorithm::HS256, "hs", &array)));
    let mut string = claims();
    string["scp"] = json!("other orders:admin");
    assert!(accepts(&plugin, &sign(Algorithm::HS256, "hs", &string)));
}

#[test]
fn requires_route_scopes_only_on_that_route() {
    freeze();
    let plugin = hs(json!({ "routes": { "orders-delete": { "scopes": ["orders:admin"] } } }));
    let token = sign(Algorithm::HS256, "hs", &claims());
    let (action, _) = run_on(&plugin, &mut bearer(&token), on_route("orders-list"));
    assert!(action.is_continue());
    let (action, _) = run_on(&plugin, &mut bearer(&token), on_route("orders-delete"));
    let refusal = refusal(&action);
    assert_eq!(refusal.status, 403);
    assert!(refusal.challenge.contains(r#"scope="orders:admin""#));
    let admin = token_with("scope", json!("orders:admin"));
    let (action, _) = run_on(&plugin, &mut bearer(&admin), on_route("orders-delete"));
    assert!(action.is_continue());
}

#[test]
fn requires_claim_values_globally_and_per_route() {
    freeze();
    let plugin = hs(json!({
        "claims": { "tenant": "acme" },
        "routes": { "admin": { "claims": { "role": ["admin", "owner"], "level": 3 } } },
    }));
    let token = sign(Algorithm::HS256, "hs", &claims());
    assert!(accepts(&plugin, &token));
    let other_tenant = token_with("tenant", json!("globex"));
    let refusal = refuse(&plugin, &other_tenant);
    assert_eq!(
        (refusal.status, refusal.error_type.as_str()),
        (403, "ACCESS_DENIED")
    );
    assert!(refusal.message.contains("`tenant`"), "{refusal:?}");

    let (action, _) = run_on(&plugin, &mut bearer(&token), on_route("admin"));
    assert_eq!(refusal_status(&action), Some(403));
    let mut owner = claims();
    owner["role"] = json!(["user", "owner"]);
    owner["level"] = json!(3);
    let owner = sign(Algorithm::HS256, "hs", &owner);
    let (action, _) = run_on(&plugin, &mut bearer(&owner), on_route("admin"));
    assert!(action.is_continue());
}

fn refusal_status(action: &wasmgate_plugin_sdk::Action) -> Option<u16> {
    action.response().map(|response| response.status)
}

#[test]
fn sets_forwarded_headers_and_strips_client_copies() {
    freeze();
    let plugin = hs(json!({
        "forward_headers": { "X-User-Id": "sub", "x-tenant": "tenant", "x-groups": "groups" },
    }));
    let mut token_claims = claims();
    token_claims["groups"] = json!(["a", "b"]);
    let token = sign(Algorithm::HS256, "hs", &token_claims);
    let mut request = bearer(&token)
        .header("x-user-id", "mallory")
        .header("x-user-id", "root")
        .header("x-tenant", "globex");
    assert!(run(&plugin, &mut request).0.is_continue());
    assert_eq!(request.headers().get_all("x-user-id"), [&b"alice"[..]]);
    assert_eq!(request.header_str("x-tenant"), Some("acme"));
    assert_eq!(request.header_str("x-groups"), Some(r#"["a","b"]"#));

    // A claim the token lacks: the client's copy is still removed.
    let mut no_tenant = claims();
    no_tenant.as_object_mut().unwrap().remove("tenant");
    let token = sign(Algorithm::HS256, "hs", &no_tenant);
    let mut request = bearer(&token).header("x-tenant", "globex");
    assert!(run(&plugin, &mut request).0.is_continue());
    assert!(!request.headers().contains("x-tenant"));
}

#[test]
fn reads_the_token_from_a_cookie() {
    freeze();
    let plugin = hs(json!({ "token": { "cookie": "session" } }));
    let token = sign(Algorithm::HS256, "hs", &claims());
    let mut request = FakeRequest::new("GET", "/")
        .header("cookie", "theme=dark")
        .header("cookie", format!("lang=en; session={token}"));
    assert!(run(&plugin, &mut request).0.is_continue());
    let mut bearer_only = bearer(&token);
    let refusal = refusal(&run(&plugin, &mut bearer_only).0);
    assert_eq!(
        refusal.message,
        "missing token (expected the `session` cookie)"
    );
}

#[test]
fn reads_the_token_from_a_query_parameter() {
    freeze();
    let plugin = hs(json!({ "token": { "query": "access_token" } }));
    let token = sign(Algorithm::HS256, "hs", &claims());
    let mut request = FakeRequest::new("GET", &format!("/orders?page=2&access_token={token}"));
    assert!(run(&plugin, &mut request).0.is_continue());
    let refusal = refusal(&run(&plugin, &mut FakeRequest::new("GET", "/orders?page=2")).0);
    assert_eq!(refusal.status, 401);
}

#[test]
fn reads_the_token_from_a_custom_header_with_or_without_scheme() {
    freeze();
    let token = sign(Algorithm::HS256, "hs", &claims());
    let raw = hs(json!({ "token": { "header": "X-Access-Token" } }));
    let mut request = FakeRequest::new("GET", "/").header("x-access-token", &token);
    assert!(run(&raw, &mut request).0.is_continue());
    let schemed = hs(json!({ "token": { "header": "x-auth", "scheme": "JWT" } }));
    let mut request = FakeRequest::new("GET", "/").header("x-auth", format!("JWT {token}"));
    assert!(run(&schemed, &mut request).0.is_continue());
    let mut request = FakeRequest::new("GET", "/").header("x-auth", &token);
    assert_eq!(refusal(&run(&schemed, &mut request).0).challenge, "Bearer");
}

#[test]
fn answers_with_the_request_id_and_never_the_token() {
    freeze();
    let mut expired = claims();
    expired["exp"] = json!(NOW - 3600);
    let token = sign(Algorithm::HS256, "hs", &expired);
    let refusal = refuse(&hs(json!({})), &token);
    let body: Value = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(body["requestId"], FakeContext::REQUEST_ID);
    assert_eq!(body["message"], "the token has expired");
}
