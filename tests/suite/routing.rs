//! Routing: hosts, path parameters, API version selection, 404 and 405 gateway responses, deprecation.

use http::Method;
use wasmgate_tests::{EchoUpstream, TestGateway, http1};

async fn versioned_gateway(upstream: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.echo]
url = "{}"

[[routes]]
id = "get-order"
methods = ["GET"]
path = "/orders/{{id}}"
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
id = "get-order-v2"
methods = ["GET"]
path = "/orders/{{id}}"
version = "v2"
[routes.integration]
type = "mock"
status = 200
body = "v2"
[routes.deprecation]
since = 2025-01-01T00:00:00Z
sunset = 2030-06-30T00:00:00Z
link = "https://example.com/migrate"

[[routes]]
id = "create-order"
methods = ["POST"]
path = "/orders/{{id}}"
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream.url()
    ))
    .await
}

#[tokio::test]
async fn path_parameters_reach_the_backend_path() {
    let upstream = EchoUpstream::start().await;
    let gateway = versioned_gateway(&upstream).await;
    let response = http1().get(&gateway.url("/orders/42?expand=items")).await;
    assert_eq!(response.status, 200);
    let seen = response.json();
    assert_eq!(seen["path"], "/orders/42");
    assert_eq!(seen["query"], "expand=items");
}

#[tokio::test]
async fn version_is_selected_by_path_prefix_header_or_query() {
    let upstream = EchoUpstream::start().await;
    let gateway = versioned_gateway(&upstream).await;
    let client = http1();

    let by_prefix = client.get(&gateway.url("/v2/orders/1")).await;
    assert_eq!(by_prefix.body, "v2");
    let by_header = client
        .send(
            Method::GET,
            &gateway.url("/orders/1"),
            &[("x-api-version", "v2")],
            "",
        )
        .await;
    assert_eq!(by_header.body, "v2");
    let by_query = client.get(&gateway.url("/orders/1?version=v2")).await;
    assert_eq!(by_query.body, "v2");
    let unversioned = client.get(&gateway.url("/orders/1")).await;
    assert_eq!(unversioned.json()["path"], "/orders/1");
}

#[tokio::test]
async fn deprecated_routes_announce_deprecation_and_sunset() {
    let upstream = EchoUpstream::start().await;
    let gateway = versioned_gateway(&upstream).await;
    let response = http1().get(&gateway.url("/v2/orders/1")).await;
    assert_eq!(response.header("deprecation"), Some("@1735689600"));
    assert_eq!(
        response.header("sunset"),
        Some("Sun, 30 Jun 2030 00:00:00 GMT")
    );
    assert_eq!(
        response.header("link"),
        Some("<https://example.com/migrate>; rel=\"deprecation\"")
    );
    let current = http1().get(&gateway.url("/orders/1")).await;
    assert_eq!(current.header("deprecation"), None);
}

#[tokio::test]
async fn unknown_path_is_a_404_gateway_response() {
    let upstream = EchoUpstream::start().await;
    let gateway = versioned_gateway(&upstream).await;
    let response = http1().get(&gateway.url("/nothing/here")).await;
    assert_eq!(response.status, 404);
    let body = response.json();
    assert_eq!(body["type"], "RESOURCE_NOT_FOUND");
    assert_eq!(body["message"], "Resource not found");
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
}

#[tokio::test]
async fn wrong_method_is_a_405_listing_the_allowed_methods() {
    let upstream = EchoUpstream::start().await;
    let gateway = versioned_gateway(&upstream).await;
    let response = http1()
        .send(Method::DELETE, &gateway.url("/orders/1"), &[], "")
        .await;
    assert_eq!(response.status, 405);
    assert_eq!(response.json()["type"], "METHOD_NOT_ALLOWED");
    assert_eq!(response.header("allow"), Some("GET, POST, HEAD"));
}

/// Three routes on one path: for one domain, for its subdomains, and for any other host.
async fn hosted_gateway(upstream: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.echo]
url = "{}"

[[routes]]
id = "any-host"
path = "/whoami"
integration = {{ type = "mock", status = 200, body = "any" }}

[[routes]]
id = "api"
host = "api.example.com"
path = "/whoami"
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
id = "tenants"
host = "*.tenants.example.com"
methods = ["GET"]
path = "/whoami"
integration = {{ type = "mock", status = 200, body = "tenant" }}

[[routes]]
id = "tenant-only"
host = "*.tenants.example.com"
path = "/tenant-only"
integration = {{ type = "mock", status = 200, body = "tenant-only" }}
"#,
        upstream.url()
    ))
    .await
}

#[tokio::test]
async fn routes_match_the_host_the_client_asked_for() {
    let upstream = EchoUpstream::start().await;
    let gateway = hosted_gateway(&upstream).await;
    let client = http1();
    let url = gateway.url("/whoami");
    let on = |host: &'static str| {
        let (client, url) = (client.clone(), url.clone());
        async move { client.send(Method::GET, &url, &[("host", host)], "").await }
    };
    let api = on("API.example.com:443").await;
    assert_eq!(api.status, 200);
    // The backend sees the route's path and the client's host as `x-forwarded-host`.
    assert_eq!(api.json()["path"], "/whoami");
    assert_eq!(
        api.json()["headers"]["x-forwarded-host"][0],
        "API.example.com:443"
    );
    assert_eq!(&on("acme.tenants.example.com").await.body[..], b"tenant");
    assert_eq!(&on("a.b.tenants.example.com").await.body[..], b"tenant");
    assert_eq!(&on("tenants.example.com").await.body[..], b"any");
    assert_eq!(&on("other.test").await.body[..], b"any");
    assert_eq!(
        &client.get(&url).await.body[..],
        b"any",
        "the listener's address"
    );

    // The subdomains' routes have the path but not the method: 405, as for one host alone;
    // the any-host route does not take it.
    let post = client
        .send(
            Method::POST,
            &url,
            &[("host", "acme.tenants.example.com")],
            "",
        )
        .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_hosts_own_routes_are_not_found_on_other_hosts() {
    let upstream = EchoUpstream::start().await;
    let gateway = hosted_gateway(&upstream).await;
    let client = http1();
    let url = gateway.url("/tenant-only");
    let tenant = client
        .send(Method::GET, &url, &[("host", "x.tenants.example.com")], "")
        .await;
    assert_eq!(&tenant.body[..], b"tenant-only");
    let elsewhere = client
        .send(Method::GET, &url, &[("host", "api.example.com")], "")
        .await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.json()["type"], "RESOURCE_NOT_FOUND");
}
