//! The access log: one valid JSON line per request with the documented fields, for a proxied
//! request, a request a plugin answered, and a gateway error.

use std::time::{Duration, Instant};

use http::Method;
use wasmgate_tests::{EchoUpstream, TestGateway, http1, plugin_path};

/// Reads the log until it holds `count` lines (written off the request path, so shortly after
/// the responses).
pub(crate) async fn lines(path: &std::path::Path, count: usize) -> Vec<serde_json::Value> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<_> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        if lines.len() >= count {
            return lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "only {} lines: {text}",
            lines.len()
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_one_json_line_with_the_documented_fields() {
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"
[access_log]
enabled = true
path = "access.log"

[upstreams.echo]
url = "{}"

[plugins.api-key]
path = "{}"

[[routes]]
id = "proxied"
path = "/open"
integration = {{ type = "http", upstream = "echo" }}

[[routes]]
id = "guarded"
path = "/guarded"
plugins = ["api-key"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream.url(),
        plugin_path("require_api_key"),
    ))
    .await;
    let client = http1();
    let proxied = client
        .send(Method::POST, &gateway.url("/open"), &[], "twelve bytes")
        .await;
    let rejected = client.get(&gateway.url("/guarded")).await;
    let missing = client.get(&gateway.url("/missing")).await;
    let log = lines(&gateway.dir.join("access.log"), 3).await;
    let by_id = |response: &wasmgate_tests::TestResponse| {
        let id = response.header("x-request-id").unwrap();
        log.iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for {id}"))
            .clone()
    };

    let line = by_id(&proxied);
    for field in wasmgate::config::ACCESS_LOG_FIELDS {
        assert!(
            line.get(*field).is_some(),
            "field {field} missing in {line}"
        );
    }
    assert_eq!(line["route"], "proxied");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/open");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes_in"], 12);
    assert_eq!(line["bytes_out"], proxied.body.len() as u64);
    assert_eq!(line["client_ip"], "127.0.0.1");
    assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
    assert!(line["integration_ms"].as_f64().unwrap() > 0.0);
    assert!(line["duration_ms"].as_f64().unwrap() >= line["integration_ms"].as_f64().unwrap());
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(line["gateway_response"], serde_json::Value::Null);
    assert_eq!(line["upstream"], "echo");
    assert_eq!(
        line["canary"],
        serde_json::Value::Null,
        "no canary on the route"
    );

    let line = by_id(&rejected);
    assert_eq!(
        (line["route"].as_str(), line["status"].as_u64()),
        (Some("guarded"), Some(401))
    );
    assert_eq!(line["integration_ms"], serde_json::Value::Null);
    assert_eq!(
        line["upstream"],
        serde_json::Value::Null,
        "refused before the backend"
    );
    assert!(line["plugin_ms"].as_f64().unwrap() > 0.0);

    let line = by_id(&missing);
    assert_eq!(line["route"], serde_json::Value::Null);
    assert_eq!(line["status"], 404);
    assert_eq!(line["gateway_response"], "RESOURCE_NOT_FOUND");
}
