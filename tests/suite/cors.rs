//! The `cors` plugin through a real gateway and upstream: preflights answered by the gateway,
//! CORS headers on actual and gateway-error responses, disallowed origins.

use http::Method;
use wasmgate_tests::{EchoUpstream, TestGateway, TestResponse, http1, plugin_path};

async fn gateway(upstream: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.echo]
url = "{url}"

[plugins.cors]
path = "{cors}"
[plugins.cors.config]
allow_origins = ["https://app.example.com", "https://*.example.org"]
allow_methods = ["GET", "PUT"]
allow_headers = ["content-type", "x-api-key"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age_secs = 600

[plugins.api-key]
path = "{api_key}"

[chain]
plugins = ["cors"]

[[routes]]
methods = ["GET", "PUT"]
path = "/books/{{id}}"
plugins = ["api-key"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        url = upstream.url(),
        cors = plugin_path("cors"),
        api_key = plugin_path("require_api_key"),
    ))
    .await
}

async fn send(
    gateway: &TestGateway,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    http1().send(method, &gateway.url(path), headers, "").await
}

fn cors_headers(response: &TestResponse) -> Vec<&str> {
    response
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn the_gateway_answers_an_allowed_preflight_without_calling_the_backend() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = send(
        &gateway,
        Method::OPTIONS,
        "/books/1",
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type, x-api-key"),
        ],
    )
    .await;
    // 204 although the route requires an API key: the CORS plugin runs first.
    assert_eq!(response.status, 204);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("GET, PUT")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("content-type, x-api-key")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(response.header("access-control-max-age"), Some("600"));
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn a_preflight_from_a_disallowed_origin_gets_no_cors_headers() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = send(
        &gateway,
        Method::OPTIONS,
        "/books/1",
        &[
            ("origin", "https://evil.test"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(response.status, 403);
    assert_eq!(response.json()["type"], "CORS_ORIGIN_NOT_ALLOWED");
    assert_eq!(cors_headers(&response), Vec::<&str>::new());
}

#[tokio::test]
async fn actual_responses_to_allowed_origins_carry_cors_headers() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = send(
        &gateway,
        Method::GET,
        "/books/1",
        &[("origin", "https://shop.example.org"), ("x-api-key", "k")],
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://shop.example.org")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        response.header("access-control-expose-headers"),
        Some("x-request-id")
    );
    assert_eq!(response.header("vary"), Some("Origin"));
    // The backend saw the actual request, origin included.
    assert_eq!(
        response.json()["headers"]["origin"][0],
        "https://shop.example.org"
    );
}

#[tokio::test]
async fn gateway_and_plugin_errors_carry_cors_headers_too() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let origin = ("origin", "https://app.example.com");
    for (method, path, headers, status) in [
        (Method::GET, "/nowhere", vec![origin], 404),
        (Method::DELETE, "/books/1", vec![origin], 405),
        (Method::GET, "/books/1", vec![origin], 401),
    ] {
        let response = send(&gateway, method, path, &headers).await;
        assert_eq!(response.status, status, "{path}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("https://app.example.com"),
            "{status}"
        );
    }
}

#[tokio::test]
async fn actual_responses_to_disallowed_origins_carry_none() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = send(
        &gateway,
        Method::GET,
        "/books/1",
        &[
            ("origin", "https://example.org.evil.test"),
            ("x-api-key", "k"),
        ],
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(cors_headers(&response), Vec::<&str>::new());
    assert_eq!(response.header("vary"), Some("Origin"));
}

#[tokio::test]
async fn requests_without_origin_are_untouched() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = send(&gateway, Method::GET, "/books/1", &[("x-api-key", "k")]).await;
    assert_eq!(response.status, 200);
    assert_eq!(cors_headers(&response), Vec::<&str>::new());
}
