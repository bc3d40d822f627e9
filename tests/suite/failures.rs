//! A plugin that traps, loops forever or grows its memory without end loses only its own
//! request: `closed` answers 500 `PLUGIN_FAILURE`, `open` skips the plugin, within the deadline,
//! and the next request is served normally — whether the plugin is called on a fiber
//! (`misbehave`, which can sleep) or synchronously (`runaway`, which imports nothing that can
//! wait).

use std::time::{Duration, Instant};

use wasmgate_tests::{TestGateway, http1, plugin_path};

/// A gateway with one mock route guarded by `misbehave` in `mode`, under `policy`, and a
/// second route with a well-behaved plugin to check the rest of the gateway is unaffected.
async fn gateway_with(mode: &str, policy: &str) -> TestGateway {
    gateway_with_plugin("misbehave", mode, policy).await
}

/// [`gateway_with`], the failing plugin being the test plugin `bad_plugin` (`misbehave` or
/// `runaway`: both take `{ mode = … }`).
async fn gateway_with_plugin(bad_plugin: &str, mode: &str, policy: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[plugins.bad]
path = "{bad}"
failure_policy = "{policy}"
deadline_ms = 200
memory_mb = 16
config = {{ mode = "{mode}" }}

[plugins.good]
path = "{misbehave}"
config = {{ mode = "none" }}

[[routes]]
path = "/guarded"
plugins = ["bad"]
integration = {{ type = "mock", status = 200, body = "served" }}

[[routes]]
path = "/other"
plugins = ["good"]
integration = {{ type = "mock", status = 200, body = "other" }}
"#,
        bad = plugin_path(bad_plugin),
        misbehave = plugin_path("misbehave"),
    ))
    .await
}

async fn assert_loses_only_its_request(mode: &str) {
    assert_plugin_loses_only_its_request("misbehave", mode).await;
}

async fn assert_plugin_loses_only_its_request(bad_plugin: &str, mode: &str) {
    let closed = gateway_with_plugin(bad_plugin, mode, "closed").await;
    let client = http1();
    for attempt in 0..2 {
        let started = Instant::now();
        let response = client.get(&closed.url("/guarded")).await;
        assert_eq!(response.status, 500, "{mode} attempt {attempt}");
        assert_eq!(response.json()["type"], "PLUGIN_FAILURE");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{mode} answered after {:?}",
            started.elapsed()
        );
        let other = client.get(&closed.url("/other")).await;
        assert_eq!(
            (other.status.as_u16(), &other.body[..]),
            (200, &b"other"[..])
        );
        assert_eq!(other.header("x-misbehave"), Some("none"));
    }

    let open = gateway_with_plugin(bad_plugin, mode, "open").await;
    for _ in 0..2 {
        let response = client.get(&open.url("/guarded")).await;
        assert_eq!(
            (response.status.as_u16(), &response.body[..]),
            (200, &b"served"[..]),
            "{mode} with open policy"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_plugin_loses_only_its_request() {
    assert_loses_only_its_request("trap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_plugin_is_stopped_at_its_deadline() {
    assert_loses_only_its_request("loop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_growing_memory_without_end_is_stopped_at_its_cap() {
    assert_loses_only_its_request("grow-memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_plugin_called_synchronously_loses_only_its_request() {
    assert_plugin_loses_only_its_request("runaway", "trap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_plugin_called_synchronously_is_stopped_at_its_deadline() {
    assert_plugin_loses_only_its_request("runaway", "loop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_called_synchronously_growing_memory_is_stopped_at_its_cap() {
    assert_plugin_loses_only_its_request("runaway", "grow-memory").await;
}

#[test]
fn plugins_that_can_wait_are_called_on_a_fiber_the_others_synchronously() {
    use wasmgate::config::EngineSettings;
    use wasmgate::plugin::{CallMode, PluginEngine};
    let engine = PluginEngine::new(&EngineSettings {
        cache_dir: None,
        max_instances: 8,
        max_memory_bytes: 64 << 20,
    })
    .expect("engine");
    let compiled = |plugin: &str| {
        engine
            .compile(std::path::Path::new(&plugin_path(plugin)))
            .expect("compiles")
    };
    let (memory_store, redis) = (true, false);
    // Imports nothing that can wait (the JWT authorizer's default build has no `kv` import).
    for plugin in ["runaway", "stage_probe", "headers", "jwt_authorizer"] {
        assert_eq!(compiled(plugin).call_mode(memory_store), CallMode::Sync);
        assert_eq!(compiled(plugin).call_mode(redis), CallMode::Sync);
    }
    // A WASI sleep (a monotonic-clock subscription) can always wait.
    assert_eq!(
        compiled("misbehave").call_mode(memory_store),
        CallMode::Async
    );
    // The shared store waits only when it is Redis, which answers over the network.
    for plugin in ["capability_probe", "rate_limiter", "jwt_authorizer_cached"] {
        assert_eq!(compiled(plugin).call_mode(memory_store), CallMode::Sync);
        assert_eq!(compiled(plugin).call_mode(redis), CallMode::Async);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_plugin_does_not_stall_other_requests() {
    let gateway = gateway_with("loop", "closed").await;
    let client = http1();
    let looping = tokio::spawn({
        let client = client.clone();
        let url = gateway.url("/guarded");
        async move { client.get(&url).await }
    });
    // While the loop burns its budget, other requests are served: the plugin yields to the
    // runtime at every epoch tick.
    for _ in 0..5 {
        let other = client.get(&gateway.url("/other")).await;
        assert_eq!(other.status, 200);
    }
    assert_eq!(looping.await.unwrap().status, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_blocked_in_a_host_call_is_stopped_at_its_deadline() {
    assert_loses_only_its_request("sleep").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_plugin_skipped_under_open_policy_leaves_no_partial_edits() {
    let gateway = TestGateway::start(&format!(
        r#"
[plugins.partial]
path = "{misbehave}"
failure_policy = "open"
config = {{ mode = "edit-then-trap", stage = "method-response" }}

[[routes]]
path = "/guarded"
plugins = ["partial"]
integration = {{ type = "mock", status = 200, body = "served" }}
"#,
        misbehave = plugin_path("misbehave"),
    ))
    .await;
    let response = http1().get(&gateway.url("/guarded")).await;
    assert_eq!(
        (response.status.as_u16(), &response.body[..]),
        (200, &b"served"[..])
    );
    assert_eq!(response.header("x-partial"), None);
}
