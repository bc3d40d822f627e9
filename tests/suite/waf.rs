//! The waf plugin first in the global chain of a real gateway: attacks are answered 403
//! `WAF_FILTERED` before the backend, clean traffic reaches it, detect mode hands its findings
//! down the chain, IP lists see through trusted proxies, and a bad config fails the load.

use wasmgate_tests::{EchoUpstream, TestGateway, full_config, http1, plugin_path, scratch_dir};

/// A gateway with the waf (config `waf_config`, inline TOML table body) in the global chain and
/// routes for every path to an echo upstream, plus `extra` TOML.
async fn gateway(upstream: &EchoUpstream, waf_config: &str, extra: &str) -> TestGateway {
    TestGateway::start(&config(upstream, waf_config, extra)).await
}

fn config(upstream: &EchoUpstream, waf_config: &str, extra: &str) -> String {
    format!(
        r#"[upstreams.echo]
url = "{upstream}"

[plugins.waf]
path = "{waf}"
config = {{ {waf_config} }}
{extra}
[chain]
plugins = ["waf"]

[[routes]]
path = "/"
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
path = "/{{*rest}}"
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream = upstream.url(),
        waf = plugin_path("waf"),
    )
}

fn assert_filtered(response: &wasmgate_tests::TestResponse, payload_fragment: &str) {
    assert_eq!(response.status, 403, "{:?}", response.body);
    let body = response.json();
    assert_eq!(body["type"], "WAF_FILTERED");
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
    let text = String::from_utf8_lossy(&response.body).to_lowercase();
    assert!(!text.contains(payload_fragment), "payload echoed: {text}");
}

#[tokio::test]
async fn sql_injection_in_the_query_is_refused_before_the_backend() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream, "", "").await;
    let client = http1();

    let attack = client
        .get(&gateway.url("/search?q=1%27%20or%20%271%27%3D%271"))
        .await;
    assert_filtered(&attack, "'1'='1");

    let clean = client
        .get(&gateway.url("/search?q=O%27Reilly%20%26%20Sons"))
        .await;
    assert_eq!(clean.status, 200);
    assert_eq!(clean.json()["query"], "q=O%27Reilly%20%26%20Sons");
}

#[tokio::test]
async fn json_bodies_are_inspected_and_clean_ones_forwarded_intact() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream, "", "").await;
    let client = http1();
    let json = [("content-type", "application/json")];

    let attack = client
        .send(
            http::Method::POST,
            &gateway.url("/comments"),
            &json,
            r#"{"post": 7, "comment": "<img src=x onerror=alert(document.cookie)>"}"#,
        )
        .await;
    assert_filtered(&attack, "onerror");

    let benign = r#"{"comment": "It's 5 o'clock; select the \"best\" seat & enjoy", "snippet": "SELECT id FROM t WHERE a = $1"}"#;
    let clean = client
        .send(http::Method::POST, &gateway.url("/comments"), &json, benign)
        .await;
    assert_eq!(clean.status, 200);
    assert_eq!(clean.json()["body"], benign);
}

#[tokio::test]
async fn double_encoded_traversal_in_the_path_is_refused() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream, "", "").await;
    let response = http1()
        .get(&gateway.url("/files/..%252f..%252f..%252fetc%252fpasswd"))
        .await;
    assert_filtered(&response, "passwd");
}

#[tokio::test]
async fn command_injection_in_a_form_body_is_refused() {
    let upstream = EchoUpstream::start().await;
    let gateway = gateway(&upstream, "", "").await;
    let response = http1()
        .send(
            http::Method::POST,
            &gateway.url("/ping"),
            &[("content-type", "application/x-www-form-urlencoded")],
            "host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd",
        )
        .await;
    assert_filtered(&response, "passwd");
}

#[tokio::test]
async fn detect_mode_forwards_the_request_and_reports_matches_down_the_chain() {
    let upstream = EchoUpstream::start().await;
    let extra = format!(
        r#"
[plugins.expose]
path = "{}"
config = {{ forward_context = {{ "x-waf-matched" = "waf.matched", "x-waf-score" = "waf.score" }} }}
"#,
        plugin_path("headers")
    );
    let config = config(&upstream, r#"mode = "detect""#, &extra).replace(
        "integration = { type = \"http\", upstream = \"echo\" }",
        "plugins = [\"expose\"]\nintegration = { type = \"http\", upstream = \"echo\" }",
    );
    let gateway = TestGateway::start(&config).await;

    let response = http1()
        .get(&gateway.url("/files?name=..%2F..%2Fetc%2Fpasswd"))
        .await;
    assert_eq!(response.status, 200);
    let seen = response.json();
    assert_eq!(seen["headers"]["x-waf-matched"][0], "930100,930120");
    assert_eq!(seen["headers"]["x-waf-score"][0], "10");
}

#[tokio::test]
async fn deny_list_and_trusted_proxy_forwarded_for_decide_on_the_client_address() {
    let upstream = EchoUpstream::start().await;
    // The test client connects from 127.0.0.1, which is the trusted proxy here.
    let gateway = gateway(
        &upstream,
        r#"ip = { deny = ["203.0.113.0/24", "2001:db8:bad::/48"], trusted_proxies = ["127.0.0.1"] }"#,
        "",
    )
    .await;
    let client = http1();
    let from = |address: &'static str| [("x-forwarded-for", address)];

    let denied = client
        .send(
            http::Method::GET,
            &gateway.url("/"),
            &from("203.0.113.5"),
            "",
        )
        .await;
    assert_filtered(&denied, "203.0.113");
    let denied_v6 = client
        .send(
            http::Method::GET,
            &gateway.url("/"),
            &from("2001:db8:bad::7"),
            "",
        )
        .await;
    assert_eq!(denied_v6.status, 403);
    let allowed = client
        .send(
            http::Method::GET,
            &gateway.url("/"),
            &from("198.51.100.1"),
            "",
        )
        .await;
    assert_eq!(allowed.status, 200);

    let direct =
        TestGateway::start(&config(&upstream, r#"ip = { deny = ["127.0.0.0/8"] }"#, "")).await;
    assert_eq!(http1().get(&direct.url("/")).await.status, 403);
}

#[tokio::test]
async fn custom_rules_and_method_lists_from_the_config_apply() {
    let upstream = EchoUpstream::start().await;
    let waf_config = r#"allowed_methods = ["GET", "POST"], rules = [{ id = "no-debug", target = "header:x-debug", operator = "equals", pattern = "1" }]"#;
    let gateway = gateway(&upstream, waf_config, "").await;
    let client = http1();

    let debug = client
        .send(
            http::Method::GET,
            &gateway.url("/"),
            &[("x-debug", "1")],
            "",
        )
        .await;
    assert_filtered(&debug, "x-debug");
    let delete = client
        .send(http::Method::DELETE, &gateway.url("/"), &[], "")
        .await;
    assert_eq!(delete.status, 403);
    assert_eq!(client.get(&gateway.url("/")).await.status, 200);
}

#[tokio::test]
async fn an_invalid_waf_config_fails_the_load_naming_the_key() {
    let upstream = EchoUpstream::start().await;
    let dir = scratch_dir();
    let path = dir.join("gateway.toml");
    let body = config(&upstream, r#"ip = { deny = ["10.0.0.0/33"] }"#, "");
    std::fs::write(&path, full_config(&body)).expect("write config");
    let checked = wasmgate::check(&path).await;
    // No gateway starts, so nothing else removes the scratch directory.
    let _ = std::fs::remove_dir_all(&dir);
    let errors = match checked {
        Ok(_) => panic!("invalid waf config accepted"),
        Err(errors) => errors.to_string(),
    };
    assert!(errors.contains("ip.deny[0]"), "{errors}");
}
