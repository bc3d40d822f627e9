//! The `cors` plugin against the SDK's fake host.
#![cfg(not(target_arch = "wasm32"))]

use cors::Cors;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, InitError, ResponseData};

fn plugin(config: Value) -> Cors {
    testing::init::<Cors>(config).expect("valid config")
}

fn config_error(config: Value) -> String {
    match testing::init::<Cors>(config) {
        Err(InitError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

fn app() -> Cors {
    plugin(json!({
        "allow_origins": ["https://app.example.com", "https://*.example.org:8443"],
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["Content-Type", "x-api-key"],
        "expose_headers": ["x-request-id"],
        "allow_credentials": true,
        "max_age_secs": 600,
    }))
}

fn preflight(origin: &str) -> FakeRequest {
    FakeRequest::new("OPTIONS", "/books")
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
}

fn answer(plugin: &Cors, mut request: FakeRequest) -> ResponseData {
    match testing::method_request(plugin, &mut request, &mut FakeContext::new()) {
        Action::Respond(response) => response,
        Action::Continue => panic!("expected an answer"),
    }
}

fn actual(plugin: &Cors, request: &FakeRequest, response: FakeResponse) -> FakeResponse {
    let mut response = response;
    let action = testing::method_response(plugin, request, &mut response, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
    response
}

#[test]
fn answers_an_allowed_preflight_with_204_and_the_policy() {
    let response = answer(&app(), preflight("https://app.example.com"));
    assert_eq!(response.status, 204);
    assert_eq!(
        response.header_str("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        response.header_str("access-control-allow-methods"),
        Some("GET, PUT")
    );
    assert_eq!(
        response.header_str("access-control-allow-headers"),
        Some("content-type, x-api-key")
    );
    assert_eq!(
        response.header_str("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(response.header_str("access-control-max-age"), Some("600"));
    assert_eq!(
        response.header_str("vary"),
        Some("Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
    );
    assert!(response.body.is_empty());
}

#[test]
fn refuses_a_preflight_from_a_disallowed_origin_without_cors_headers() {
    let response = answer(&app(), preflight("https://evil.example.com"));
    assert_eq!(response.status, 403);
    assert!(
        response
            .headers
            .iter()
            .all(|(name, _)| !name.starts_with("access-control-"))
    );
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["type"], "CORS_ORIGIN_NOT_ALLOWED");
}

#[test]
fn matches_wildcard_subdomains_with_scheme_and_port() {
    let plugin = app();
    let allowed = |origin: &str| answer(&plugin, preflight(origin)).status == 204;
    assert!(allowed("https://a.example.org:8443"));
    assert!(allowed("https://A.b.Example.org:8443"));
    assert!(!allowed("https://example.org:8443"));
    assert!(!allowed("https://a.example.org"));
    assert!(!allowed("http://a.example.org:8443"));
    assert!(!allowed("https://a.evilexample.org:8443"));
    assert!(!allowed("https://app.example.com.evil.net"));
}

#[test]
fn lets_non_preflight_options_through() {
    let mut request =
        FakeRequest::new("OPTIONS", "/books").header("origin", "https://app.example.com");
    let action = testing::method_request(&app(), &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
    let mut no_origin =
        FakeRequest::new("OPTIONS", "/").header("access-control-request-method", "GET");
    assert_eq!(
        testing::method_request(&app(), &mut no_origin, &mut FakeContext::new()),
        Action::Continue
    );
}

#[test]
fn adds_cors_headers_to_an_actual_response_from_an_allowed_origin() {
    let request = FakeRequest::new("GET", "/books").header("origin", "https://app.example.com");
    let response = actual(
        &app(),
        &request,
        FakeResponse::new(404).header("vary", "accept"),
    );
    assert_eq!(
        response.header_str("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        response.header_str("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        response.header_str("access-control-expose-headers"),
        Some("x-request-id")
    );
    assert_eq!(
        response.headers().get_all("vary"),
        [&b"accept"[..], b"Origin"]
    );
}

#[test]
fn strips_cors_headers_for_a_disallowed_origin() {
    let request = FakeRequest::new("GET", "/books").header("origin", "https://evil.test");
    let backend = FakeResponse::new(200)
        .header("access-control-allow-origin", "*")
        .header("vary", "Origin");
    let response = actual(&app(), &request, backend);
    assert!(!response.headers().contains("access-control-allow-origin"));
    assert_eq!(response.headers().get_all("vary"), [b"Origin"]);
}

#[test]
fn leaves_requests_without_origin_and_answered_preflights_alone() {
    let response = actual(
        &app(),
        &FakeRequest::new("GET", "/"),
        FakeResponse::new(200),
    );
    assert!(response.headers().is_empty());
    let response = actual(
        &app(),
        &preflight("https://app.example.com"),
        FakeResponse::new(204),
    );
    assert!(response.headers().is_empty());
}

#[test]
fn any_origin_without_credentials_answers_star_and_echoes_wildcard_lists() {
    let plugin =
        plugin(json!({ "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"] }));
    let response = answer(&plugin, preflight("https://anyone.test"));
    assert_eq!(
        response.header_str("access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        response.header_str("access-control-allow-methods"),
        Some("PUT")
    );
    assert_eq!(
        response.header_str("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        response.header_str("access-control-allow-credentials"),
        None
    );
    let request = FakeRequest::new("GET", "/").header("origin", "https://anyone.test");
    let response = actual(&plugin, &request, FakeResponse::new(200));
    assert_eq!(
        response.header_str("access-control-allow-origin"),
        Some("*")
    );
    assert!(!response.headers().contains("vary"));
}

#[test]
fn rejects_invalid_configs_naming_the_key() {
    assert_eq!(
        config_error(json!({ "allow_origins": ["*"], "allow_credentials": true })),
        "`allow_origins`: `*` cannot be combined with `allow_credentials = true` (browsers refuse it): list the origins"
    );
    for bad in [
        "https://app.example.com/",
        "app.example.com",
        "https://exa mple.com",
        "https://x.com:99999",
    ] {
        assert!(
            config_error(json!({ "allow_origins": ["https://ok.test", bad] }))
                .starts_with("`allow_origins[1]`: not an origin"),
            "{bad}"
        );
    }
    assert!(config_error(json!({ "allow_origins": [] })).starts_with("`allow_origins`: empty"));
    assert_eq!(
        config_error(json!({ "allow_origins": ["*"], "allow_headers": ["x y"] })),
        "`allow_headers[0]`: `x y` is not a valid token (letters, digits, `-`, …)"
    );
    assert_eq!(
        config_error(json!({ "allow_origins": ["*"], "allow_methods": ["GET", "*"] })),
        "`allow_methods`: `*` must be the only entry"
    );
    assert_eq!(config_error(json!({})), "missing field `allow_origins`");
}
