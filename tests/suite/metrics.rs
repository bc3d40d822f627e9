//! `/metrics`: valid Prometheus text, and counters that move exactly with what happens.
//! (Metrics are process-wide and tests run in parallel: each test uses its own route ids and
//! plugin names, and asserts on deltas of its own series.)

use wasmgate_tests::prometheus::{self, key};
use wasmgate_tests::{TestGateway, http1, plugin_path};

async fn scrape(gateway: &TestGateway) -> prometheus::Samples {
    let page = http1().get(&gateway.admin_url("/metrics")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    prometheus::parse(std::str::from_utf8(&page.body).unwrap())
}

fn value(samples: &prometheus::Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_exactly_with_requests_and_plugin_traps() {
    let gateway = TestGateway::start(&format!(
        r#"
[plugins.metrics-trap]
path = "{misbehave}"
config = {{ mode = "trap" }}

[plugins.metrics-ok]
path = "{misbehave}"
config = {{ mode = "none" }}

[[routes]]
id = "metrics-ok-route"
path = "/ok"
plugins = ["metrics-ok"]
integration = {{ type = "mock", status = 200, body = "ok" }}

[[routes]]
id = "metrics-trap-route"
path = "/trap"
plugins = ["metrics-trap"]
integration = {{ type = "mock", status = 200, body = "never" }}
"#,
        misbehave = plugin_path("misbehave"),
    ))
    .await;
    let before = scrape(&gateway).await;
    let client = http1();
    for _ in 0..3 {
        assert_eq!(client.get(&gateway.url("/ok")).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(client.get(&gateway.url("/trap")).await.status, 500);
    }
    let after = scrape(&gateway).await;
    let delta = |k: &str| value(&after, k) - value(&before, k);

    let ok = key(
        "wasmgate_requests_total",
        &[
            ("route", "metrics-ok-route"),
            ("method", "GET"),
            ("status", "2xx"),
        ],
    );
    assert_eq!(delta(&ok), 3.0);
    let failed = key(
        "wasmgate_requests_total",
        &[
            ("route", "metrics-trap-route"),
            ("method", "GET"),
            ("status", "5xx"),
        ],
    );
    assert_eq!(delta(&failed), 2.0);
    let calls = key(
        "wasmgate_plugin_calls_total",
        &[("plugin", "metrics-ok"), ("stage", "method-request")],
    );
    assert_eq!(delta(&calls), 3.0);
    let traps = key(
        "wasmgate_plugin_failures_total",
        &[
            ("plugin", "metrics-trap"),
            ("stage", "method-request"),
            ("kind", "trap"),
            ("policy", "closed"),
        ],
    );
    assert_eq!(delta(&traps), 2.0);
    let latency_count = key(
        "wasmgate_request_duration_seconds_count",
        &[("route", "metrics-ok-route")],
    );
    assert_eq!(delta(&latency_count), 3.0);
    assert!(
        value(
            &after,
            &key(
                "wasmgate_plugin_instances_idle",
                &[("plugin", "metrics-ok")]
            )
        ) >= 1.0
    );
}
