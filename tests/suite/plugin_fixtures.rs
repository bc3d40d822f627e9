//! The built-in plugins' fixture suites (`plugins/*/fixtures/*.toml`), run in the real plugin
//! host by the same runner as `wasmgate plugin test`, against the components the build made.

use std::path::{Path, PathBuf};

use wasmgate::plugin_kit::{fixture_engine, run_fixture_dir};
use wasmgate_tests::plugin_path;

/// The compiled-component cache the other end-to-end tests use too.
fn compile_cache() -> PathBuf {
    PathBuf::from(env!("WASMGATE_PLUGINS_DIR")).join("test-cache")
}

/// Runs `plugins/<crate_dir>/fixtures/*.toml` against `target/plugins/<component>.wasm`.
async fn assert_fixtures_pass(crate_dir: &str, component: &str) {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(crate_dir)
        .join("fixtures");
    let engine = fixture_engine(Some(&compile_cache())).expect("engine");
    let wasm = plugin_path(component);
    let report = run_fixture_dir(&engine, Path::new(&wasm), &fixtures)
        .await
        .expect("fixtures run");
    assert!(report.passed(), "fixtures of {crate_dir} failed:\n{report}");
}

#[tokio::test]
async fn the_headers_plugin_passes_its_fixtures() {
    assert_fixtures_pass("headers", "headers").await;
}

#[tokio::test]
async fn the_cors_plugin_passes_its_fixtures() {
    assert_fixtures_pass("cors", "cors").await;
}

#[tokio::test]
async fn the_api_keys_plugin_passes_its_fixtures() {
    assert_fixtures_pass("api-keys", "api_keys").await;
}

#[tokio::test]
async fn the_waf_passes_its_fixtures() {
    assert_fixtures_pass("waf", "waf").await;
}

#[tokio::test]
async fn the_validator_passes_its_fixtures() {
    assert_fixtures_pass("validator", "validator").await;
}

#[tokio::test]
async fn the_mapper_passes_its_fixtures() {
    assert_fixtures_pass("mapper", "mapper").await;
}

#[tokio::test]
async fn the_rate_limiter_passes_its_fixtures() {
    assert_fixtures_pass("rate-limiter", "rate_limiter").await;
}

#[tokio::test]
async fn the_jwt_authorizer_passes_its_fixtures() {
    assert_fixtures_pass("jwt-authorizer", "jwt_authorizer").await;
}

#[tokio::test]
async fn a_failing_case_is_reported_with_a_diff_naming_file_and_case() {
    let dir = wasmgate_tests::scratch_dir();
    std::fs::write(
        dir.join("wrong.toml"),
        r#"
[config]
response = { set = { "x-served-by" = "wasmgate" } }

[[case]]
name = "expects the wrong header value"
stage = "method-response"
expect = { outcome = "respond", headers = { x-served-by = "nginx" } }
"#,
    )
    .unwrap();
    let engine = fixture_engine(Some(&compile_cache())).expect("engine");
    let wasm = plugin_path("headers");
    let report = run_fixture_dir(&engine, Path::new(&wasm), &dir)
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = report.to_string();
    assert!(!report.passed());
    assert!(text.contains("wrong.toml"), "{text}");
    assert!(
        text.contains("FAIL expects the wrong header value (method-response)"),
        "{text}"
    );
    assert!(
        text.contains("outcome:\n             expected: respond\n             actual:   continue"),
        "{text}"
    );
    assert!(
        text.contains("expected: \"nginx\"\n             actual:   \"wasmgate\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_trap_is_reported_with_a_wasm_backtrace_naming_the_functions() {
    // The plugin's failure is what the gateway logs (with plugin, stage and request id) when a
    // plugin traps on a request; the fixture runner reports the same text.
    let dir = wasmgate_tests::scratch_dir();
    std::fs::write(
        dir.join("trap.toml"),
        r#"
[config]
mode = "trap"

[[case]]
name = "traps"
stage = "method-request"
expect = { outcome = "continue" }
"#,
    )
    .unwrap();
    let engine = fixture_engine(Some(&compile_cache())).expect("engine");
    let wasm = plugin_path("misbehave");
    let report = run_fixture_dir(&engine, Path::new(&wasm), &dir)
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = report.to_string();
    assert!(text.contains("the plugin failed: plugin trapped"), "{text}");
    assert!(text.contains("wasm backtrace"), "{text}");
    // The builder keeps the name section: frames name the plugin's functions.
    assert!(text.contains("misbehave::Misbehave::at"), "{text}");
    assert!(!text.contains("<wasm function"), "{text}");
}
