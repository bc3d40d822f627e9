//! The example plugin against the SDK's fake host: `cargo test -p require-api-key`.
//!
//! The fake host exists on native targets only, so these tests do too.
#![cfg(not(target_arch = "wasm32"))]

use require_api_key::RequireApiKey;
use serde_json::json;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, InitError};

fn plugin(config: serde_json::Value) -> RequireApiKey {
    testing::init::<RequireApiKey>(config).expect("valid config")
}

#[test]
fn rejects_a_request_without_an_api_key_with_a_401_json_error() {
    let mut request = FakeRequest::new("GET", "/v1/hello");
    let action = testing::method_request(&plugin(json!({})), &mut request, &mut FakeContext::new());

    let response = action.response().expect("the plugin answers");
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header_str("content-type"),
        Some("application/json")
    );
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        body,
        json!({
            "message": "missing x-api-key header",
            "type": "UNAUTHORIZED",
            "requestId": FakeContext::REQUEST_ID,
        })
    );
}

#[test]
fn rejects_an_empty_api_key() {
    let mut request = FakeRequest::new("GET", "/").header("x-api-key", "");
    let action = testing::method_request(&plugin(json!({})), &mut request, &mut FakeContext::new());
    assert_eq!(action.response().map(|r| r.status), Some(401));
}

#[test]
fn lets_a_request_with_an_api_key_through() {
    let mut request = FakeRequest::new("GET", "/").header("X-API-Key", "k1");
    let action = testing::method_request(&plugin(json!({})), &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
}

#[test]
fn reads_the_key_from_the_configured_header() {
    let plugin = plugin(json!({ "header": "x-token" }));
    let mut with_default_header = FakeRequest::new("GET", "/").header("x-api-key", "k1");
    let mut with_token = FakeRequest::new("GET", "/").header("x-token", "k1");

    let rejected =
        testing::method_request(&plugin, &mut with_default_header, &mut FakeContext::new());
    assert_eq!(
        rejected
            .response()
            .and_then(|r| r.body_str())
            .map(|b| b.contains("missing x-token header")),
        Some(true)
    );
    assert_eq!(
        testing::method_request(&plugin, &mut with_token, &mut FakeContext::new()),
        Action::Continue
    );
}

#[test]
fn marks_responses_as_checked() {
    let mut response = FakeResponse::new(200);
    let request = FakeRequest::new("GET", "/");
    let _ = testing::method_response(
        &plugin(json!({})),
        &request,
        &mut response,
        &mut FakeContext::new(),
    );
    assert_eq!(response.header_str("x-api-key-checked"), Some("true"));
}

#[test]
fn rejects_a_bad_config_naming_the_key() {
    let err = |config| testing::init::<RequireApiKey>(config).err();
    assert_eq!(
        err(json!({ "header": "x api key" })),
        Some(InitError::InvalidConfig(
            "`header`: invalid header name".into()
        ))
    );
    assert_eq!(
        err(json!({ "heder": "x-token" })),
        Some(InitError::InvalidConfig(
            "unknown key `heder` (at `heder`)".into()
        ))
    );
}

#[test]
fn with_principals_it_allows_listed_keys_and_names_the_caller_in_the_context() {
    let plugin = plugin(json!({ "principals": { "k-alice": "alice" } }));
    let mut context = FakeContext::new();
    let mut request = FakeRequest::new("GET", "/v1/hello").header("x-api-key", "k-alice");
    let action = testing::method_request(&plugin, &mut request, &mut context);
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get("auth.principal"), Some("alice"));

    let mut request = FakeRequest::new("GET", "/v1/hello").header("x-api-key", "k-mallory");
    let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
    let response = action.response().expect("the plugin answers");
    assert_eq!(response.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["type"], "ACCESS_DENIED");
}
