//! Plugin chains: short-circuits, edits at each stage, context down the chain, declared stages.

use wasmgate_tests::{EchoUpstream, TestGateway, http1, plugin_path};

fn upstream_section(upstream: &EchoUpstream) -> String {
    format!("[upstreams.echo]\nurl = \"{}\"\n", upstream.url())
}

#[tokio::test]
async fn a_plugin_short_circuits_with_401_before_the_backend() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"{}
[plugins.api-key]
path = "{}"

[[routes]]
path = "/orders/{{id}}"
plugins = ["api-key"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream_section(&upstream),
        plugin_path("require_api_key"),
    ))
    .await;
    let client = http1();

    let rejected = client.get(&gateway.url("/orders/1")).await;
    assert_eq!(rejected.status, 401);
    let body = rejected.json();
    assert_eq!(body["type"], "UNAUTHORIZED");
    assert_eq!(body["requestId"].as_str(), rejected.header("x-request-id"));

    let accepted = client
        .send(
            http::Method::GET,
            &gateway.url("/orders/1"),
            &[("x-api-key", "k")],
            "",
        )
        .await;
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.header("x-api-key-checked"), Some("true"));
    assert_eq!(accepted.json()["path"], "/orders/1");
}

#[tokio::test]
async fn plugins_edit_the_backend_request_and_the_client_response() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"{}
[plugins.stamp]
path = "{}"
[plugins.stamp.config]
request = {{ set = {{ "x-from-gateway" = "yes" }}, remove = ["x-internal"] }}
response = {{ set = {{ "x-served-by" = "wasmgate" }}, remove = ["x-upstream"] }}

[[routes]]
path = "/echo"
plugins = ["stamp"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream_section(&upstream),
        plugin_path("headers"),
    ))
    .await;

    let response = http1()
        .send(
            http::Method::GET,
            &gateway.url("/echo"),
            &[("x-internal", "secret")],
            "",
        )
        .await;
    assert_eq!(response.status, 200);
    let seen = response.json();
    assert_eq!(seen["headers"]["x-from-gateway"][0], "yes");
    assert!(seen["headers"].get("x-internal").is_none(), "{seen}");
    assert_eq!(response.header("x-served-by"), Some("wasmgate"));
    assert_eq!(response.header("x-upstream"), None);
}

#[tokio::test]
async fn context_set_by_one_plugin_is_read_by_a_later_one() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"{}
[plugins.tenant]
path = "{headers}"
config = {{ context = {{ tenant = "acme" }} }}

[plugins.forward]
path = "{headers}"
config = {{ forward_context = {{ "x-tenant" = "tenant" }}, expose_context = {{ "x-seen-tenant" = "tenant" }} }}

[chain]
plugins = ["tenant"]

[[routes]]
path = "/echo"
plugins = ["forward"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream_section(&upstream),
        headers = plugin_path("headers"),
    ))
    .await;

    let response = http1().get(&gateway.url("/echo")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["headers"]["x-tenant"][0], "acme");
    assert_eq!(response.header("x-seen-tenant"), Some("acme"));
}

#[tokio::test]
async fn a_plugin_is_called_only_at_the_stages_it_declared() {
    let upstream = EchoUpstream::start().await;
    // stage-probe panics (traps) at any stage it did not declare; with the default `closed`
    // policy a call at an undeclared stage would turn the answer into a 500.
    let gateway = TestGateway::start(&format!(
        r#"{}
[plugins.request-only]
path = "{probe}"
config = {{ stages = ["integration-request"] }}

[plugins.response-only]
path = "{probe}"
config = {{ stages = ["method-response"] }}

[[routes]]
path = "/echo"
plugins = ["request-only", "response-only"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream_section(&upstream),
        probe = plugin_path("stage_probe"),
    ))
    .await;

    let response = http1().get(&gateway.url("/echo")).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let seen = response.json();
    assert_eq!(seen["headers"]["x-probe-integration-request"][0], "called");
    assert!(seen["headers"].get("x-probe-method-request").is_none());
    assert_eq!(response.header("x-probe-method-response"), Some("called"));
    // The context set at integration request reached the method-response plugin.
    assert_eq!(
        response.header("x-probe-context-integration-request"),
        Some("called")
    );
}

#[tokio::test]
async fn a_mock_route_answers_from_config_through_the_chains() {
    let gateway = TestGateway::start(&format!(
        r#"
[plugins.stamp]
path = "{}"
config = {{ response = {{ set = {{ "x-served-by" = "wasmgate" }} }} }}

[[routes]]
methods = ["GET"]
path = "/health"
plugins = ["stamp"]
[routes.integration]
type = "mock"
status = 200
headers = {{ content-type = "application/json" }}
body = '{{"status":"ok"}}'
"#,
        plugin_path("headers"),
    ))
    .await;

    let response = http1().get(&gateway.url("/health")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
    assert_eq!(response.header("x-served-by"), Some("wasmgate"));
    assert_eq!(response.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn plugins_cannot_break_message_framing() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"{}
[plugins.framing]
path = "{}"
config = {{ response = {{ set = {{ "content-length" = "1000", "x-kept" = "yes" }} }} }}

[[routes]]
path = "/echo"
plugins = ["framing"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream_section(&upstream),
        plugin_path("headers"),
    ))
    .await;

    let response = http1().get(&gateway.url("/echo")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["path"], "/echo");
    let length: usize = response.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, response.body.len());
}
