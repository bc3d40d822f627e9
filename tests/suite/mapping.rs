//! The `mapper` plugin through a real gateway and upstream: method, path, query, header and body
//! rewrites seen by the backend, response reshaping and status mapping, mapping failures, and
//! the `examples/books` config run as shipped.

use http::Method;
use serde_json::json;
use wasmgate_tests::{EchoUpstream, TestGateway, http1, plugin_path};

const BOOKS_EXAMPLE: &str = include_str!("../../examples/books/gateway.toml");

/// The books example with the test's listener and the built plugins, its `table` upstream at
/// `table_url`.
fn books_config(table_url: &str) -> String {
    let plugins_dir = plugin_path("mapper")
        .trim_end_matches("mapper.wasm")
        .to_owned();
    let listener = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";
    let upstream = "url = \"http://127.0.0.1:8080\"";
    assert!(BOOKS_EXAMPLE.contains(listener) && BOOKS_EXAMPLE.contains(upstream));
    BOOKS_EXAMPLE
        .replace(listener, "")
        .replace(upstream, &format!("url = \"{table_url}\""))
        .replace("../../target/plugins/", &plugins_dir)
}

#[tokio::test]
async fn the_books_example_maps_get_books_to_a_table_scan_and_reshapes_it() {
    // One gateway plays the table API (the example's own mock route), the other calls it.
    let table = TestGateway::start(&books_config("http://127.0.0.1:9")).await;
    let gateway = TestGateway::start(&books_config(&table.url(""))).await;
    let client = http1();

    let response = client.get(&gateway.url("/books")).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({ "books": [
            { "id": "1", "title": "Dune", "author": "Frank Herbert", "year": 1965 },
            { "id": "2", "title": "Emma", "author": "Jane Austen", "year": 1815 },
        ], "count": 2 })
    );
    assert_eq!(response.header("x-table-request-id"), None);

    let invalid = client
        .send(
            Method::POST,
            &gateway.url("/books"),
            &[("content-type", "application/json")],
            r#"{"title":"","year":"1965"}"#,
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["errors"].as_array().map(Vec::len), Some(2));
    let valid = client
        .send(
            Method::POST,
            &gateway.url("/books"),
            &[("content-type", "application/json")],
            r#"{"title":"Dune","year":1965}"#,
        )
        .await;
    assert_eq!(valid.status, 201);
}

async fn echo_gateway(upstream: &EchoUpstream, mapper_config: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.echo]
url = "{url}"

[plugins.map]
path = "{mapper}"
[plugins.map.config]
{mapper_config}

[[routes]]
methods = ["GET"]
path = "/books/{{id}}"
plugins = ["map"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        url = upstream.url(),
        mapper = plugin_path("mapper"),
    ))
    .await
}

#[tokio::test]
async fn the_backend_sees_the_mapped_method_path_query_headers_and_body() {
    let upstream = EchoUpstream::start().await;
    let gateway = echo_gateway(
        &upstream,
        r#"variables = { table = "books" }
[plugins.map.config.request]
method = "POST"
path = "/tables/{{ variables.table }}/items/{{ path.id }}"
query = { set = { consistent = "true" }, rename = { q = "filter" }, remove = ["debug"] }
headers = { set = { x-table = "{{ variables.table }}", x-request-id-copy = "{{ context['gateway.request-id'] }}" }, remove = ["x-secret"] }
body = '''{"Key": {"id": {{ path.id }}}, "Filter": {{ query.q }}, "Agent": {{ headers["x-client"] }}}'''
"#,
    )
    .await;
    let response = http1()
        .send(
            Method::GET,
            &gateway.url("/books/42?q=dune&debug=1"),
            &[("x-secret", "s"), ("x-client", "web")],
            "",
        )
        .await;
    assert_eq!(response.status, 200);
    let seen = response.json();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/tables/books/items/42");
    assert_eq!(seen["query"], "filter=dune&consistent=true");
    assert_eq!(seen["headers"]["x-table"][0], "books");
    assert_eq!(
        seen["headers"]["x-request-id-copy"][0],
        response.header("x-request-id").unwrap()
    );
    assert!(seen["headers"].get("x-secret").is_none());
    assert_eq!(seen["headers"]["content-type"][0], "application/json");
    assert_eq!(
        seen["body"],
        r#"{"Key": {"id": "42"}, "Filter": "dune", "Agent": "web"}"#
    );
}

#[tokio::test]
async fn backend_statuses_map_to_client_statuses_and_bodies() {
    let upstream = EchoUpstream::start().await;
    let gateway = echo_gateway(
        &upstream,
        r#"[plugins.map.config.request]
path = "/status/{{ path.id }}"
[plugins.map.config.response]
headers = { remove = ["x-upstream"] }
[[plugins.map.config.response.rules]]
backend_status = "2\\d\\d"
body = '''{"book": {"path": {{ body.path }}, "method": {{ body.method | lower }}}}'''
[[plugins.map.config.response.rules]]
backend_status = "5\\d\\d"
status = 502
body = '''{"message": "the book store failed", "type": "BACKEND_ERROR", "backendStatus": {{ status }}}'''
"#,
    )
    .await;
    let client = http1();
    let ok = client.get(&gateway.url("/books/200")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.json(),
        json!({ "book": { "path": "/status/200", "method": "get" } })
    );
    assert_eq!(ok.header("x-upstream"), None);

    let failed = client.get(&gateway.url("/books/503")).await;
    assert_eq!(failed.status, 502);
    assert_eq!(
        failed.json(),
        json!({ "message": "the book store failed", "type": "BACKEND_ERROR", "backendStatus": 503 })
    );

    let unmatched = client.get(&gateway.url("/books/404")).await;
    assert_eq!(unmatched.status, 404);
    assert_eq!(unmatched.json()["path"], "/status/404");
}

#[tokio::test]
async fn a_runtime_template_error_is_a_500_mapping_failure() {
    let upstream = EchoUpstream::start().await;
    let gateway = echo_gateway(
        &upstream,
        r#"[plugins.map.config.response]
[[plugins.map.config.response.rules]]
body = '''{"title": {{ body.book.title }}}'''
"#,
    )
    .await;
    let response = http1().get(&gateway.url("/books/1")).await;
    assert_eq!(response.status, 500);
    let body = response.json();
    assert_eq!(body["type"], "MAPPING_FAILURE");
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
    // The backend's raw answer does not leak.
    assert!(body.get("path").is_none());
}
