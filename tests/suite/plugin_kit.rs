//! The plugin developer kit end to end: `plugin new`, `plugin build` and `plugin test` on a
//! fresh crate, then the two-command loop — a running gateway serving the plugin's `.wasm`
//! loads a rebuilt one without a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmgate::plugin_kit::{NewPlugin, build_plugin, fixture_engine, new_plugin, test_plugin};
use wasmgate_tests::{TestGateway, http1, scratch_dir};

/// Where scaffolded crates build: the directory the build scripts build the built-in plugins
/// in (`target/plugins/build`), with the same settings and lock file, so the SDK's
/// dependencies are already compiled there and a run compiles only the SDK and the new crate.
fn shared_target_dir() -> PathBuf {
    PathBuf::from(env!("WASMGATE_PLUGINS_DIR")).join("build")
}

/// Removes a test's directory however the test ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn generation(gateway: &TestGateway) -> u64 {
    let config = http1().get(&gateway.admin_url("/config")).await;
    config.json()["generation"].as_u64().unwrap()
}

/// Polls the admin API until the generation passes `after`, for at most `limit`.
async fn wait_for_generation_after(gateway: &TestGateway, after: u64, limit: Duration) {
    let start = Instant::now();
    while generation(gateway).await <= after {
        assert!(start.elapsed() < limit, "no reload within {limit:?}");
        tokio::task::yield_now().await;
    }
}

fn gateway_config(wasm: &Path) -> String {
    format!(
        r#"
[reload]
watch = true
debounce_ms = 20

[plugins.hello]
path = {wasm:?}

[[routes]]
path = "/hello"
plugins = ["hello"]
integration = {{ type = "mock", status = 200, body = "hi" }}
"#,
        wasm = wasm.display().to_string()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_plugin_builds_passes_its_fixtures_and_reloads_in_a_running_gateway_when_rebuilt() {
    let scratch = RemoveOnDrop(scratch_dir());
    let crate_dir = scratch.0.join("hello");
    new_plugin(&NewPlugin {
        name: "hello".into(),
        stages: vec![],
        capabilities: vec![],
        dir: Some(crate_dir.clone()),
    })
    .expect("plugin new");

    let target = shared_target_dir();
    let (built, report) = test_plugin(&crate_dir, &target).await.expect("plugin test");
    assert!(report.passed(), "{report}");
    assert_eq!(report.counts(), (3, 0, 0));
    assert!(built.capabilities.is_empty(), "{built}");

    let gateway = TestGateway::start(&gateway_config(&built.wasm)).await;
    let refused = http1().get(&gateway.url("/hello")).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["message"], "missing x-hello header");

    // The author changes the plugin and runs `plugin build`: the gateway picks it up.
    let lib = crate_dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let changed = source.replace(r#"401, "UNAUTHORIZED""#, r#"403, "ACCESS_DENIED""#);
    assert_ne!(
        source, changed,
        "the template's refusal moved: update this test"
    );
    std::fs::write(&lib, changed).unwrap();
    let before = generation(&gateway).await;
    let rebuilt = tokio::task::spawn_blocking(move || {
        let engine = fixture_engine(None).expect("engine");
        build_plugin(&engine, &crate_dir, &target).expect("plugin build")
    })
    .await
    .unwrap();
    assert_eq!(rebuilt.wasm, built.wasm);
    wait_for_generation_after(&gateway, before, Duration::from_secs(30)).await;

    let refused = http1().get(&gateway.url("/hello")).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["type"], "ACCESS_DENIED");
    let allowed = http1()
        .send(
            http::Method::GET,
            &gateway.url("/hello"),
            &[("x-hello", "hello")],
            "",
        )
        .await;
    assert_eq!(
        (allowed.status.as_u16(), allowed.body.as_ref()),
        (200, &b"hi"[..])
    );
    gateway.shutdown().await;
}
