//! Record and replay: `[record]` writes sampled requests of a route with what every stage did
//! (secrets redacted); replaying them on the same config reproduces every outcome, and on a
//! changed config shows where it differs — for the whole chain or one plugin.

use http::Method;
use wasmgate::record::{Verdict, replay_file};
use wasmgate_tests::{EchoUpstream, TestGateway, full_config, http1, plugin_path};

use crate::access_log::lines;

/// The recorded route: an API key plugin (answers 401 without a key, puts the key's principal
/// in the context) and a header plugin at three stages.
fn config(upstream: &str, principal: &str, served_by: &str) -> String {
    format!(
        r#"
[record]
path = "recorded.jsonl"
routes = ["guarded"]
redact_headers = ["x-secret"]
redact_query = ["token"]

[upstreams.echo]
url = "{upstream}"

[plugins.api-key]
path = "{key}"
config = {{ header = "x-client-key", principals = {{ "k1" = "{principal}" }} }}

[plugins.stamp]
path = "{headers}"
config = {{ context = {{ tenant = "acme" }}, forward_context = {{ "x-tenant" = "tenant" }}, response = {{ set = {{ "x-served-by" = "{served_by}" }} }} }}

[[routes]]
id = "guarded"
path = "/guarded"
plugins = ["api-key", "stamp"]
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
id = "open"
path = "/open"
integration = {{ type = "http", upstream = "echo" }}
"#,
        key = plugin_path("require_api_key"),
        headers = plugin_path("headers"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_replays_to_the_same_outcomes_and_shows_a_changed_config() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&upstream.url(), "alice", "wasmgate")).await;
    let client = http1();
    let allowed = client
        .send(
            Method::GET,
            &gateway.url("/guarded?page=2&token=t0ps3cret"),
            &[
                ("x-client-key", "k1"),
                ("authorization", "Bearer s3cret-bearer"),
                ("x-secret", "hush-hush"),
            ],
            "",
        )
        .await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("x-served-by"), Some("wasmgate"));
    let refused = client.get(&gateway.url("/guarded")).await;
    assert_eq!(refused.status, 401);
    let open = client.get(&gateway.url("/open")).await;
    assert_eq!(open.status, 200);

    let recording = gateway.dir.join("recorded.jsonl");
    let recorded = lines(&recording, 2).await;
    let text = std::fs::read_to_string(&recording).unwrap();
    for secret in ["s3cret-bearer", "hush-hush", "t0ps3cret"] {
        assert!(!text.contains(secret), "{secret} recorded: {text}");
    }
    let of = |response: &wasmgate_tests::TestResponse| {
        let id = response.header("x-request-id").unwrap();
        let line = recorded.iter().find(|l| l["request_id"] == id);
        line.unwrap_or_else(|| panic!("{id} not recorded: {text}"))
            .clone()
    };
    // Every stage the request went through, even those with no plugin.
    let line = of(&allowed);
    let stages: Vec<&str> = line["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "method-request",
            "integration-request",
            "integration-response",
            "method-response",
            "log"
        ]
    );
    let method_request = &line["stages"][0];
    let entry = &method_request["entry"]["request"];
    assert_eq!(entry["headers"]["authorization"], "[redacted]");
    assert_eq!(entry["headers"]["x-secret"], "[redacted]");
    assert_eq!(entry["query"], "page=2&token=[redacted]");
    assert_eq!(method_request["calls"][0]["plugin"], "api-key");
    assert_eq!(method_request["calls"][0]["outcome"], "continue");
    assert_eq!(
        method_request["calls"][0]["changes"][0],
        serde_json::json!({ "op": "add", "path": "/context/auth.principal", "value": "alice" })
    );
    let integration_response = &line["stages"][2];
    assert!(
        integration_response["entry_changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|change| change["path"] == "/response"),
        "the backend's response enters the exchange: {integration_response}"
    );
    let line = of(&refused);
    assert_eq!(line["stages"][0]["calls"][0]["outcome"], "respond");
    assert_eq!(line["stages"][0]["calls"][0]["response"]["status"], 401);
    assert!(recorded.iter().all(|l| l["route"] == "guarded"));

    // The same config reproduces both.
    let same = gateway.inner().config_path();
    let report = replay_file(same, &recording, None).await.unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.count(Verdict::Reproduced), 2, "{report}");

    // A changed config: another principal for the key, another response header.
    let changed = gateway.dir.join("changed.toml");
    std::fs::write(
        &changed,
        full_config(&config(&upstream.url(), "bob", "other")),
    )
    .unwrap();
    let report = replay_file(&changed, &recording, None).await.unwrap();
    assert!(!report.passed());
    // Both differ: the header plugin also stamps the 401 answer.
    assert_eq!(report.count(Verdict::Differs), 2, "{report}");
    let allowed_id = allowed.header("x-request-id").unwrap();
    let differing = report.requests.iter().find(|r| r.request_id == allowed_id);
    let differing = differing.unwrap();
    let places: Vec<(&str, &str, &str, &str)> = differing
        .differences
        .iter()
        .map(|d| {
            let stage = d.stage.name();
            (
                stage,
                d.place.as_str(),
                d.recorded.as_str(),
                d.replayed.as_str(),
            )
        })
        .collect();
    assert!(
        places.contains(&(
            "method-request",
            "/exchange/context/auth.principal",
            "\"alice\"",
            "\"bob\""
        )),
        "{report}"
    );
    assert!(
        places.contains(&(
            "method-response",
            "/exchange/response/headers/x-served-by",
            "\"wasmgate\"",
            "\"other\""
        )),
        "{report}"
    );
    let shown = report.to_string();
    assert!(shown.contains("DIFFERS"), "{shown}");
    let redacted = "redacted header authorization, header x-secret, query token";
    assert!(shown.contains(redacted), "{shown}");

    // One plugin alone: only its own difference.
    let report = replay_file(&changed, &recording, Some("api-key"))
        .await
        .unwrap();
    let differences: Vec<_> = report
        .requests
        .iter()
        .flat_map(|r| &r.differences)
        .collect();
    assert_eq!(differences.len(), 1, "{report}");
    let stamp_alone = replay_file(same, &recording, Some("stamp")).await.unwrap();
    assert!(stamp_alone.passed(), "{stamp_alone}");
    assert_eq!(differences[0].place, "/exchange/context/auth.principal");
    let error = replay_file(&changed, &recording, Some("nope"))
        .await
        .unwrap_err();
    assert!(error.contains("no plugin `nope`"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_is_not_a_recording_is_reported_not_replayed() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&config(&upstream.url(), "alice", "wasmgate")).await;
    let recording = gateway.dir.join("broken.jsonl");
    std::fs::write(&recording, "{\"format\": 1}\nnot json\n").unwrap();
    let report = replay_file(gateway.inner().config_path(), &recording, None)
        .await
        .unwrap();
    assert_eq!(report.count(Verdict::NotReplayed), 2, "{report}");
    assert!(!report.passed());
    assert!(report.to_string().contains("line 2: "), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_arms_the_next_requests_of_a_route() {
    let upstream = EchoUpstream::start().await;
    let sampled_none = config(&upstream.url(), "alice", "wasmgate")
        .replace("routes = [\"guarded\"]", "sample_ratio = 0.0");
    let gateway = TestGateway::start(&sampled_none).await;
    let client = http1();
    let before = client.get(&gateway.url("/guarded")).await;
    let arm = |query: &str| {
        let url = gateway.admin_url(&format!("/record{query}"));
        let client = client.clone();
        async move { client.send(Method::POST, &url, &[], "").await }
    };
    let armed = arm("?route=guarded&count=2").await;
    assert_eq!(armed.status, 200);
    assert_eq!(armed.json()["armed"], 2);
    assert_eq!(arm("?route=nope").await.status, 404);
    assert_eq!(arm("?route=guarded&count=0").await.status, 400);
    assert_eq!(arm("").await.status, 400);

    let first = client.get(&gateway.url("/guarded")).await;
    let second = client.get(&gateway.url("/open")).await;
    let third = client.get(&gateway.url("/guarded")).await;
    let status = client.get(&gateway.admin_url("/record")).await.json();
    assert_eq!(status["armed"], serde_json::json!({}), "{status}");
    let recorded = lines(&gateway.dir.join("recorded.jsonl"), 2).await;
    let ids: Vec<&str> = recorded
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    let id = |r: &wasmgate_tests::TestResponse| r.header("x-request-id").unwrap().to_owned();
    assert!(
        !ids.contains(&id(&before).as_str()),
        "recorded before being armed"
    );
    assert!(
        !ids.contains(&id(&second).as_str()),
        "another route recorded"
    );
    assert!(ids.contains(&id(&first).as_str()) && ids.contains(&id(&third).as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arming_without_a_record_section_says_what_is_missing() {
    let gateway = TestGateway::start(
        "[[routes]]\nid = \"r\"\npath = \"/\"\nintegration = { type = \"mock\", status = 200 }\n",
    )
    .await;
    let client = http1();
    let url = gateway.admin_url("/record?route=r");
    let response = client.send(Method::POST, &url, &[], "").await;
    assert_eq!(response.status, 409);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("`[record]`"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_answered_on_the_global_chain_replays_on_it() {
    // No plugin answers the preflight, so the gateway's 405 goes through the global chain's
    // method-response stage (empty), not the route's (which stamps a header).
    let gateway = TestGateway::start(&format!(
        r#"
[record]
path = "recorded.jsonl"

[plugins.stamp]
path = "{}"
config = {{ context = {{ tenant = "acme" }}, response = {{ set = {{ "x-served-by" = "wasmgate" }} }} }}

[[routes]]
id = "books"
methods = ["GET"]
path = "/books"
plugins = ["stamp"]
integration = {{ type = "mock", status = 200 }}
"#,
        plugin_path("headers")
    ))
    .await;
    let client = http1();
    let preflight = client
        .send(
            Method::OPTIONS,
            &gateway.url("/books"),
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "GET"),
            ],
            "",
        )
        .await;
    assert_eq!(preflight.status, 405);
    assert_eq!(preflight.header("x-served-by"), None);
    let recording = gateway.dir.join("recorded.jsonl");
    let recorded = lines(&recording, 1).await;
    let stages = recorded[0]["stages"].as_array().unwrap();
    let global: Vec<(&str, bool)> = stages
        .iter()
        .map(|s| (s["stage"].as_str().unwrap(), s["global_chain"] == true))
        .collect();
    assert_eq!(
        global,
        [
            ("method-request", false),
            ("method-response", true),
            ("log", true)
        ]
    );
    let report = replay_file(gateway.inner().config_path(), &recording, None)
        .await
        .unwrap();
    assert!(report.passed(), "{report}");
}
