//! The `validator` plugin through a real gateway and upstream: parameters, JSON Schema bodies,
//! content types, malformed JSON and size caps.

use http::Method;
use serde_json::json;
use wasmgate_tests::{EchoUpstream, TestGateway, TestResponse, http1, plugin_path};

async fn gateway(upstream: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[gateway]
max_body_bytes = 8192

[upstreams.echo]
url = "{url}"

[plugins.validate-book]
path = "{validator}"
[plugins.validate-book.config]
query = {{ dry_run = {{ type = "boolean", required = false }} }}
headers = {{ x-client-id = {{ pattern = "^[a-z0-9-]{{3,32}}$" }} }}
[plugins.validate-book.config.body]
max_bytes = 2048
[plugins.validate-book.config.body.models."application/json"]
draft = "7"
schema = {{ type = "object", required = ["title", "year"], additionalProperties = false, properties = {{ title = {{ type = "string", minLength = 1 }}, year = {{ type = "integer", minimum = 0 }}, tags = {{ type = "array", items = {{ type = "string" }} }} }} }}
[plugins.validate-book.config.body.models."text/plain"]

[plugins.validate-id]
path = "{validator}"
[plugins.validate-id.config]
path = {{ id = {{ type = "integer" }} }}
query = {{ fields = {{ pattern = "^[a-z,]+$", required = false }} }}

[[routes]]
methods = ["POST"]
path = "/books"
plugins = ["validate-book"]
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
methods = ["GET"]
path = "/books/{{id}}"
plugins = ["validate-id"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        url = upstream.url(),
        validator = plugin_path("validator"),
    ))
    .await
}

async fn post(gateway: &TestGateway, headers: &[(&str, &str)], body: &str) -> TestResponse {
    http1()
        .send(
            Method::POST,
            &gateway.url("/books"),
            headers,
            body.to_owned(),
        )
        .await
}

const JSON: (&str, &str) = ("content-type", "application/json");
const CLIENT: (&str, &str) = ("x-client-id", "web-1");

#[tokio::test]
async fn a_valid_body_reaches_the_backend_unchanged() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let body = r#"{"title":"Dune","year":1965,"tags":["sf"]}"#;
    let response = post(&gateway, &[JSON, CLIENT], body).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["body"], body);
}

#[tokio::test]
async fn an_invalid_body_is_a_400_listing_every_error() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = post(
        &gateway,
        &[JSON, CLIENT],
        r#"{"title":"","year":-1,"tags":[1],"isbn":"x"}"#,
    )
    .await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    assert_eq!(body["message"], "the request body is invalid");
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
    let mut errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["location"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            (
                "/body".to_owned(),
                "Additional properties are not allowed ('isbn' was unexpected)".to_owned()
            ),
            (
                "/body/tags/0".to_owned(),
                "1 is not of type \"string\"".to_owned()
            ),
            (
                "/body/title".to_owned(),
                "\"\" is shorter than 1 character".to_owned()
            ),
            (
                "/body/year".to_owned(),
                "-1 is less than the minimum of 0".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_not_a_500() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = post(&gateway, &[JSON, CLIENT], r#"{"title": "Dune", "#).await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    assert_eq!(
        body["errors"],
        json!([{ "location": "/body", "message": "malformed JSON: EOF while parsing a value at line 1 column 18" }])
    );
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_415() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = post(
        &gateway,
        &[("content-type", "application/xml"), CLIENT],
        "<book/>",
    )
    .await;
    assert_eq!(response.status, 415);
    let body = response.json();
    assert_eq!(body["type"], "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(
        body["message"],
        "content type `application/xml` is not accepted; accepted: application/json, text/plain"
    );
    // Another model of the same route: accepted as is.
    let text = post(
        &gateway,
        &[("content-type", "text/plain; charset=utf-8"), CLIENT],
        "Dune",
    )
    .await;
    assert_eq!(text.status, 200);
}

#[tokio::test]
async fn bodies_over_the_plugin_cap_or_the_gateway_cap_are_413() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let over_plugin = format!(r#"{{"title":"{}","year":1}}"#, "a".repeat(4000));
    let response = post(&gateway, &[JSON, CLIENT], &over_plugin).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["type"], "REQUEST_TOO_LARGE");
    assert_eq!(
        response.json()["message"],
        "the request body is larger than 2048 bytes"
    );

    let over_gateway = format!(r#"{{"title":"{}","year":1}}"#, "a".repeat(20_000));
    let response = post(&gateway, &[JSON, CLIENT], &over_gateway).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["type"], "REQUEST_TOO_LARGE");
}

#[tokio::test]
async fn missing_and_malformed_params_are_a_400_listing_each() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let response = post(&gateway, &[JSON], r#"{"title":"Dune","year":1965}"#).await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["type"], "BAD_REQUEST_PARAMETERS");
    assert_eq!(
        body["errors"],
        json!([{ "location": "/headers/x-client-id", "message": "missing required header" }])
    );

    let response = http1()
        .send(
            Method::POST,
            &gateway.url("/books?dry_run=maybe"),
            &[JSON, ("x-client-id", "NO")],
            r#"{"title":"Dune","year":1965}"#,
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json()["errors"],
        json!([
            { "location": "/query/dry_run", "message": "\"maybe\" is not `true` or `false`" },
            { "location": "/headers/x-client-id", "message": "\"NO\" does not match \"^[a-z0-9-]{3,32}$\"" },
        ])
    );
}

#[tokio::test]
async fn path_params_are_typed() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream).await;
    let client = http1();
    let ok = client
        .get(&gateway.url("/books/42?fields=title,year"))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["path"], "/books/42");

    let bad = client.get(&gateway.url("/books/dune?fields=TITLE")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json()["errors"],
        json!([
            { "location": "/path/id", "message": "\"dune\" is not an integer" },
            { "location": "/query/fields", "message": "\"TITLE\" does not match \"^[a-z,]+$\"" },
        ])
    );
}
