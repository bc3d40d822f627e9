//! Overload: when every instance of a plugin stays busy past its `queue_timeout_ms`, the
//! gateway sheds the request with 503 `SERVICE_UNAVAILABLE` and `Retry-After` — counted as
//! shed, never as a plugin failure — and idle instance pools shrink back after a burst.

use wasmgate_tests::prometheus::{key, scrape};
use wasmgate_tests::{TestGateway, http1, plugin_path};

/// A mock route behind `misbehave` pausing `pause_ms` in a host call per request, with at
/// most `max_instances` instances; the plugin is named `plugin` (metrics are process-wide).
async fn gateway_pausing(plugin: &str, pause_ms: u64, max_instances: u32) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[plugins.{plugin}]
path = "{misbehave}"
deadline_ms = 5000
queue_timeout_ms = 50
max_instances = {max_instances}
config = {{ mode = "pause", pause_ms = {pause_ms} }}

[[routes]]
path = "/slow"
plugins = ["{plugin}"]
integration = {{ type = "mock", status = 200, body = "served" }}
"#,
        misbehave = plugin_path("misbehave"),
    ))
    .await
}

/// Waits (at most 10 s) until `plugin` has `busy` instances in a call.
async fn wait_until_busy(gateway: &TestGateway, plugin: &str, busy: f64) {
    let series = key("wasmgate_plugin_instances_busy", &[("plugin", plugin)]);
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        if scrape(gateway).await.get(&series).copied() == Some(busy) {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("{plugin} never had {busy} busy instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_plugin_sheds_with_503_and_retry_after_not_a_plugin_failure() {
    let gateway = gateway_pausing("shed-probe", 3000, 1).await;
    let client = http1();
    let holding = tokio::spawn({
        let client = client.clone();
        let url = gateway.url("/slow");
        async move { client.get(&url).await }
    });
    wait_until_busy(&gateway, "shed-probe", 1.0).await;

    let shed = client.get(&gateway.url("/slow")).await;
    assert_eq!(shed.status, 503);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(shed.header("x-wasmgate-error"), Some("SERVICE_UNAVAILABLE"));
    assert_eq!(shed.json()["type"], "SERVICE_UNAVAILABLE");

    let held = holding.await.unwrap();
    assert_eq!(
        (held.status.as_u16(), &held.body[..]),
        (200, &b"served"[..])
    );

    let samples = scrape(&gateway).await;
    let shed_series = key(
        "wasmgate_requests_shed_total",
        &[("plugin", "shed-probe"), ("reason", "plugin_saturated")],
    );
    assert_eq!(samples.get(&shed_series).copied(), Some(1.0));
    let failures = samples
        .keys()
        .filter(|series| series.starts_with("wasmgate_plugin_failures_total{"))
        .filter(|series| series.contains("plugin=\"shed-probe\""))
        .count();
    assert_eq!(failures, 0, "a shed request is not a plugin failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instances_shrink_to_the_demand_of_the_last_period() {
    // Each call holds its instance for a second: the three requests overlap even on a
    // loaded machine.
    let gateway = gateway_pausing("pool-probe", 1000, 8).await;
    let client = http1();
    let burst: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            let url = gateway.url("/slow");
            tokio::spawn(async move { client.get(&url).await })
        })
        .collect();
    for request in burst {
        assert_eq!(request.await.unwrap().status, 200);
    }
    let snapshot = gateway.inner().snapshot();
    let plugin = &snapshot.plugins["pool-probe"];
    assert_eq!(plugin.idle_instances(), 3, "three requests overlapped");

    assert_eq!(
        plugin.trim_idle(),
        0,
        "the period that just ended needed three"
    );
    assert_eq!(
        plugin.trim_idle(),
        2,
        "the next period needed none: one is kept warm"
    );
    assert_eq!(plugin.idle_instances(), 1);
    let served = client.get(&gateway.url("/slow")).await;
    assert_eq!(
        served.status, 200,
        "the instance kept warm serves the next request"
    );
}
