//! Host capabilities through a real gateway, with the `capability-probe` plugin: the shared
//! store's buckets, quotas and key-value entries (per-plugin namespaces), the plugin's own
//! metrics, documents from a file and from a URL (with refreshes), and `crypto` (keys held by the
//! host, verification, digests). Grants refused at load
//! are in the config-error snapshots (`plugin-capability-not-granted.toml`).

use std::time::Duration;

use http::Method;
use serde_json::Value;
use wasmgate_tests::prometheus::{self, key};
use wasmgate_tests::{DocumentServer, TestGateway, http1, plugin_path};

const ALL_GRANTS: &str = r#"grants = ["rate-limit", "kv", "metrics", "crypto"]"#;

/// Sends `x-probe: <probe>` to `path` and returns the status and the JSON answer.
async fn probe(gateway: &TestGateway, path: &str, probe: &str) -> (u16, Value) {
    let response = http1()
        .send(Method::GET, &gateway.url(path), &[("x-probe", probe)], "")
        .await;
    (response.status.as_u16(), response.json())
}

/// Two probe plugins, each on its own route, both granted everything.
async fn two_probes(extra: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
{extra}
[plugins.probe-a]
path = "{probe}"
{ALL_GRANTS}

[plugins.probe-b]
path = "{probe}"
{ALL_GRANTS}

[[routes]]
id = "capabilities-a"
path = "/a"
plugins = ["probe-a"]
integration = {{ type = "mock", status = 204 }}

[[routes]]
id = "capabilities-b"
path = "/b"
plugins = ["probe-b"]
integration = {{ type = "mock", status = 204 }}
"#,
        probe = plugin_path("capability_probe"),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_allows_its_burst_then_says_when_to_retry() {
    let gateway = two_probes("").await;
    // 3 at once, then 1 per minute: the 4th is refused with about a minute to wait.
    for remaining in [2, 1, 0] {
        let (status, answer) = probe(&gateway, "/a", "bucket ip:1 1 60000 3").await;
        assert_eq!(status, 200);
        assert_eq!(answer["allowed"], true);
        assert_eq!(answer["remaining"], remaining);
    }
    let (_, refused) = probe(&gateway, "/a", "bucket ip:1 1 60000 3").await;
    assert_eq!(refused["allowed"], false);
    let retry = refused["retry_after_ms"].as_u64().unwrap();
    assert!((59_000..=60_000).contains(&retry), "retry after {retry} ms");
    // The same key of another plugin is another bucket.
    let (_, other) = probe(&gateway, "/b", "bucket ip:1 1 60000 3").await;
    assert_eq!(
        (other["allowed"].clone(), other["remaining"].clone()),
        (true.into(), 2.into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_counts_uses_and_refuses_past_its_limit() {
    let gateway = two_probes("").await;
    for used in 1..=2 {
        let (_, answer) = probe(&gateway, "/a", "quota plan:gold 2 day").await;
        assert_eq!(
            (answer["allowed"].clone(), answer["used"].clone()),
            (true.into(), used.into())
        );
    }
    let (_, refused) = probe(&gateway, "/a", "quota plan:gold 2 day").await;
    assert_eq!(refused["allowed"], false);
    assert_eq!(refused["remaining"], 0);
    let resets_at = refused["resets_at"].as_u64().unwrap();
    assert_eq!(resets_at % 86_400, 0, "a UTC day boundary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_entries_are_private_to_each_plugin_and_expire() {
    let gateway = two_probes("").await;
    let (status, _) = probe(&gateway, "/a", "kv-set token abc 60000").await;
    assert_eq!(status, 200);
    assert_eq!(
        probe(&gateway, "/a", "kv-get token").await.1["value"],
        "abc"
    );
    assert_eq!(
        probe(&gateway, "/b", "kv-get token").await.1["value"],
        Value::Null
    );
    probe(&gateway, "/a", "kv-delete token").await;
    assert_eq!(
        probe(&gateway, "/a", "kv-get token").await.1["value"],
        Value::Null
    );
    // A 1 ms entry is gone by the next request.
    probe(&gateway, "/a", "kv-set short x 1").await;
    let expired = async {
        while probe(&gateway, "/a", "kv-get short").await.1["value"] != Value::Null {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), expired)
        .await
        .expect("the entry expires");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_metric_appears_under_its_namespace() {
    let gateway = two_probes("").await;
    for _ in 0..3 {
        assert_eq!(probe(&gateway, "/a", "metric cache_hits").await.0, 200);
    }
    let page = http1().get(&gateway.admin_url("/metrics")).await;
    let samples = prometheus::parse(std::str::from_utf8(&page.body).unwrap());
    let series = key("plugin_probe_a_cache_hits", &[("route", "capabilities-a")]);
    assert_eq!(samples.get(&series), Some(&3.0), "{series} in the scrape");
    // A gateway metric name cannot be reached, and bad names are refused.
    let (status, answer) = probe(&gateway, "/a", "metric Bad-Name").await;
    assert_eq!(status, 500);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("invalid metric name")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_come_from_files_and_refreshed_urls() {
    let server = DocumentServer::start(r#"{"keys":["k1"]}"#).await;
    let dir = wasmgate_tests::scratch_dir();
    std::fs::write(dir.join("allow.txt"), "alice\nbob\n").unwrap();
    let config = format!(
        r#"
[plugins.docs]
path = "{probe}"
{ALL_GRANTS}
[plugins.docs.documents]
allow = {{ file = "allow.txt" }}
jwks = {{ url = "{url}", refresh_ms = 3600000 }}

[[routes]]
id = "capabilities-docs"
path = "/docs"
plugins = ["docs"]
integration = {{ type = "mock", status = 204 }}
"#,
        probe = plugin_path("capability_probe"),
        url = server.url("/jwks.json"),
    );
    let gateway = TestGateway::start_in(dir, "gateway.toml", &config).await;
    let (_, file) = probe(&gateway, "/docs", "document allow").await;
    assert_eq!(
        (file["version"].clone(), file["content"].clone()),
        (1.into(), "alice\nbob\n".into())
    );
    let (_, jwks) = probe(&gateway, "/docs", "document jwks").await;
    assert_eq!(jwks["content"], r#"{"keys":["k1"]}"#);
    assert_eq!(jwks["version"], 1);

    // The key set rotates; the plugin asks for a refresh (as for an unknown `kid`).
    server.set(r#"{"keys":["k1","k2"]}"#);
    let seen = server.fetches();
    probe(&gateway, "/docs", "refresh jwks").await;
    server
        .wait_for_fetch_after(seen, Duration::from_secs(10))
        .await;
    let rotated = async {
        loop {
            let (_, jwks) = probe(&gateway, "/docs", "document jwks").await;
            if jwks["version"] == 2 {
                return jwks;
            }
            tokio::task::yield_now().await;
        }
    };
    let jwks = tokio::time::timeout(Duration::from_secs(5), rotated)
        .await
        .expect("version 2");
    assert_eq!(jwks["content"], r#"{"keys":["k1","k2"]}"#);

    // A failing fetch keeps the last good content.
    server.fail_with(http::StatusCode::INTERNAL_SERVER_ERROR);
    let seen = server.fetches();
    probe(&gateway, "/docs", "refresh jwks").await;
    server
        .wait_for_fetch_after(seen, Duration::from_secs(10))
        .await;
    let (_, kept) = probe(&gateway, "/docs", "document jwks").await;
    assert_eq!(
        (kept["version"].clone(), kept["content"].clone()),
        (2.into(), r#"{"keys":["k1","k2"]}"#.into())
    );

    let (status, unknown) = probe(&gateway, "/docs", "document nope").await;
    assert_eq!(status, 500);
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .contains("no document `nope`")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crypto_verifies_with_host_held_keys_and_refuses_weak_ones() {
    let gateway = two_probes("").await;
    let (status, answer) = probe(&gateway, "/a", "digest abc").await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );

    // HMAC-SHA256("0123456789abcdef0123456789abcdef", "header.payload").
    let secret = "0123456789abcdef0123456789abcdef";
    let tag = "888a287d848507d637670f04eb49745f97d769a05e4ba332644bbead430ea53f";
    let (_, answer) = probe(
        &gateway,
        "/a",
        &format!("hmac {secret} header.payload {tag}"),
    )
    .await;
    assert_eq!(
        answer["algorithms"],
        serde_json::json!(["HS256", "HS384", "HS512"])
    );
    assert_eq!(answer["valid"], true, "{answer}");
    let (_, answer) = probe(&gateway, "/a", &format!("hmac {secret} header.other {tag}")).await;
    assert_eq!(answer["valid"], false);

    let (_, answer) = probe(&gateway, "/a", "hmac short header.payload 00").await;
    assert_eq!(
        answer["key_error"],
        "a secret of 5 bytes: at least 32 bytes are required"
    );

    // An instance holds at most 1024 keys at once; dropped keys free their place.
    let (_, answer) = probe(&gateway, "/a", &format!("hold-keys 1025 {secret}")).await;
    assert_eq!(answer["held"], 1024);
    assert!(
        answer["key_error"]
            .as_str()
            .unwrap_or_default()
            .contains("1024 keys"),
        "{answer}"
    );
    let (_, answer) = probe(&gateway, "/a", &format!("hold-keys 1024 {secret}")).await;
    assert_eq!(answer["held"], 1024, "{answer}");
    assert!(answer.get("key_error").is_none());
}
