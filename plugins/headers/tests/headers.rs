//! The `headers` plugin against the SDK's fake host.
//!
//! The fake host exists on native targets only, so these tests do too.
#![cfg(not(target_arch = "wasm32"))]

use headers::Headers;
use serde_json::json;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, InitError, Plugin, Stages, log::Level};

fn plugin(config: serde_json::Value) -> Headers {
    testing::init::<Headers>(config).expect("valid config")
}

fn config_error(config: serde_json::Value) -> String {
    match testing::init::<Headers>(config) {
        Err(InitError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn declares_only_the_stages_whose_sections_are_set() {
    assert_eq!(plugin(json!({})).stages(), Stages::NONE);
    assert_eq!(
        plugin(json!({ "context": { "a": "b" } })).stages(),
        Stages::METHOD_REQUEST
    );
    assert_eq!(
        plugin(json!({ "request": { "remove": ["x"] }, "expose_context": { "x-a": "a" } }))
            .stages(),
        Stages::INTEGRATION_REQUEST | Stages::METHOD_RESPONSE
    );
    assert_eq!(
        plugin(json!({ "request": {}, "response": { "set": {} } })).stages(),
        Stages::NONE
    );
}

#[test]
fn removes_sets_and_appends_request_headers_at_integration_request() {
    let plugin = plugin(json!({ "request": {
        "set": { "X-From-Gateway": "yes" },
        "append": { "x-tag": "a" },
        "remove": ["x-internal"],
    }}));
    let mut request = FakeRequest::new("GET", "/")
        .header("x-internal", "secret")
        .header("x-from-gateway", "spoofed")
        .header("x-from-gateway", "twice")
        .header("x-tag", "client");
    let action = testing::integration_request(&plugin, &mut request, &mut FakeContext::new());

    assert_eq!(action, Action::Continue);
    assert!(!request.headers().contains("x-internal"));
    assert_eq!(request.headers().get_all("x-from-gateway"), [b"yes"]);
    assert_eq!(request.headers().get_all("x-tag"), [&b"client"[..], b"a"]);
}

#[test]
fn edits_response_headers_at_method_response() {
    let plugin = plugin(json!({ "response": {
        "set": { "x-served-by": "wasmgate" },
        "remove": ["server"],
    }}));
    let request = FakeRequest::new("GET", "/");
    let mut response = FakeResponse::new(200).header("server", "nginx/1.25");
    let action =
        testing::method_response(&plugin, &request, &mut response, &mut FakeContext::new());

    assert_eq!(action, Action::Continue);
    assert_eq!(response.header_str("x-served-by"), Some("wasmgate"));
    assert!(!response.headers().contains("server"));
}

#[test]
fn sets_context_values_at_method_request() {
    let plugin = plugin(json!({ "context": { "tenant": "acme" } }));
    let mut context = FakeContext::new();
    let action = testing::method_request(&plugin, &mut FakeRequest::new("GET", "/"), &mut context);

    assert_eq!(action, Action::Continue);
    assert_eq!(context.get("tenant"), Some("acme"));
}

#[test]
fn forwards_context_values_to_the_backend_and_skips_absent_keys() {
    let plugin = plugin(json!({ "forward_context": { "x-tenant": "tenant", "x-user": "user" } }));
    let mut request = FakeRequest::new("GET", "/").header("x-tenant", "from-client");
    let mut context = FakeContext::new().with("tenant", "acme");
    let _ = testing::integration_request(&plugin, &mut request, &mut context);

    assert_eq!(request.headers().get_all("x-tenant"), [b"acme"]);
    assert!(!request.headers().contains("x-user"));
}

#[test]
fn exposes_context_values_to_the_client() {
    let plugin = plugin(json!({ "expose_context": { "x-seen-tenant": "tenant" } }));
    let mut response = FakeResponse::new(204);
    let mut context = FakeContext::new().with("tenant", "acme");
    let _ = testing::method_response(
        &plugin,
        &FakeRequest::new("GET", "/"),
        &mut response,
        &mut context,
    );

    assert_eq!(response.header_str("x-seen-tenant"), Some("acme"));
}

#[test]
fn carries_a_context_value_from_method_request_to_the_response() {
    let plugin = plugin(json!({
        "context": { "tenant": "acme" },
        "expose_context": { "x-seen-tenant": "tenant" },
    }));
    let mut request = FakeRequest::new("GET", "/");
    let mut context = FakeContext::new();
    let mut response = FakeResponse::new(200);
    let _ = testing::method_request(&plugin, &mut request, &mut context);
    let _ = testing::method_response(&plugin, &request, &mut response, &mut context);

    assert_eq!(response.header_str("x-seen-tenant"), Some("acme"));
}

#[test]
fn skips_a_context_value_that_would_inject_a_header_and_warns() {
    let plugin = plugin(json!({ "forward_context": { "x-user": "user" } }));
    let mut request = FakeRequest::new("GET", "/");
    let mut context = FakeContext::new().with("user", "bob\r\nx-admin: yes");
    let _ = testing::integration_request(&plugin, &mut request, &mut context);

    assert!(!request.headers().contains("x-user"));
    let lines = testing::take_log_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].level, Level::Warn);
    assert_eq!(lines[0].field("context-key"), Some("user"));
}

#[test]
fn rejects_an_invalid_header_name_naming_the_key() {
    assert_eq!(
        config_error(json!({ "request": { "set": { "x from": "yes" } } })),
        "`request.set`: `x from` is not a valid header name (use letters, digits and \
         !#$%&'*+-.^_`|~, e.g. `x-request-source`)"
    );
    assert!(
        config_error(json!({ "response": { "remove": [""] } }))
            .starts_with("`response.remove`: `` is not")
    );
    assert!(
        config_error(json!({ "expose_context": { "a:b": "k" } }))
            .starts_with("`expose_context`: `a:b` is not")
    );
}

#[test]
fn rejects_a_header_value_with_control_characters() {
    assert_eq!(
        config_error(json!({ "request": { "append": { "x-a": "1\r\nx-b: 2" } } })),
        "`request.append.x-a`: control characters are not allowed"
    );
}

#[test]
fn rejects_a_header_both_removed_and_set() {
    assert_eq!(
        config_error(json!({ "response": { "set": { "Server": "w" }, "remove": ["server"] } })),
        "`response.remove`: `server` is also set or appended in `response`: keep one"
    );
}

#[test]
fn rejects_gateway_context_keys() {
    assert!(
        config_error(json!({ "context": { "gateway.request-id": "x" } }))
            .starts_with("`context`: `gateway.request-id` cannot be set")
    );
}

#[test]
fn rejects_unknown_keys() {
    assert_eq!(
        config_error(json!({ "requests": {} })),
        "`requests`: unknown field `requests`, expected one of `request`, `response`, `context`, \
         `forward_context`, `expose_context`"
    );
    assert!(config_error(json!({ "request": { "sets": {} } })).contains("unknown field `sets`"));
}
