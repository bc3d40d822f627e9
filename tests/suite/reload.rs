//! Hot reload: config and plugins swapped under load with no failed request, file changes
//! live within a second (also through a ConfigMap-style symlink swap), broken reloads keep the
//! old config, and a config-only change recompiles nothing (nor even rereads a `.wasm`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use wasmgate_tests::{TestGateway, http1, plugin_path, scratch_dir, write_atomically};

/// Version A: the `p` plugin is the headers plugin stamping `x-version: a`; `/r` answers "a".
/// Version B: `p` is the stage-probe plugin (a different component at the same path), `/r`
/// answers "b", and a route `/extra` exists.
fn version(name: char, watch: bool) -> String {
    let plugin = match name {
        'a' => r#"config = { response = { set = { "x-version" = "a" } } }"#,
        _ => r#"config = { stages = ["method-response"] }"#,
    };
    let extra = if name == 'b' {
        "[[routes]]\npath = \"/extra\"\nintegration = { type = \"mock\", status = 200, body = \"extra\" }\n"
    } else {
        ""
    };
    format!(
        r#"
[reload]
watch = {watch}
debounce_ms = 20

[plugins.p]
path = "p.wasm"
{plugin}

[[routes]]
path = "/r"
plugins = ["p"]
integration = {{ type = "mock", status = 200, body = "{name}" }}

{extra}"#
    )
}

/// Puts version `name`'s component at `dir/p.wasm`.
fn install_plugin(dir: &Path, name: char) {
    let source = match name {
        'a' => plugin_path("headers"),
        _ => plugin_path("stage_probe"),
    };
    write_atomically(&dir.join("p.wasm"), std::fs::read(source).unwrap());
}

/// Which version answered, failing on any response that mixes the two.
fn answered_by(
    status: u16,
    body: &[u8],
    version_header: Option<&str>,
    probe: Option<&str>,
) -> char {
    match (status, body, version_header, probe) {
        (200, b"a", Some("a"), None) => 'a',
        (200, b"b", None, Some("called")) => 'b',
        other => panic!("response from no single version: {other:?}"),
    }
}

async fn generation(gateway: &TestGateway) -> u64 {
    let config = http1().get(&gateway.admin_url("/config")).await;
    config.json()["generation"].as_u64().unwrap()
}

async fn start_version_a(watch: bool) -> TestGateway {
    let dir = scratch_dir();
    install_plugin(&dir, 'a');
    write_atomically(
        &dir.join("gateway.toml"),
        wasmgate_tests::full_config(&version('a', watch)),
    );
    TestGateway::start_in(dir, "gateway.toml", "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_fails_no_request_and_never_mixes_versions() {
    let gateway = Arc::new(start_version_a(false).await);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (gateway, stop, served) = (gateway.clone(), stop.clone(), served.clone());
        clients.push(tokio::spawn(async move {
            let client = http1();
            while !stop.load(Ordering::Relaxed) {
                let r = client.get(&gateway.url("/r")).await;
                answered_by(
                    r.status.as_u16(),
                    &r.body,
                    r.header("x-version"),
                    r.header("x-probe-method-response"),
                );
                served.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let admin = http1();
    let mut last = 'a';
    for round in 0..20 {
        last = if round % 2 == 0 { 'b' } else { 'a' };
        install_plugin(&gateway.dir, last);
        gateway.rewrite(&version(last, false));
        let reload = admin
            .send(Method::POST, &gateway.admin_url("/reload"), &[], "")
            .await;
        assert_eq!(
            reload.status,
            200,
            "{}",
            String::from_utf8_lossy(&reload.body)
        );
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client
            .await
            .expect("no client saw a failed or mixed response");
    }
    assert!(served.load(Ordering::Relaxed) > 20, "the load actually ran");

    let client = http1();
    let r = client.get(&gateway.url("/r")).await;
    let now = answered_by(
        r.status.as_u16(),
        &r.body,
        r.header("x-version"),
        r.header("x-probe-method-response"),
    );
    assert_eq!(now, last);
    let extra = client.get(&gateway.url("/extra")).await;
    assert_eq!(extra.status, if last == 'b' { 200 } else { 404 });
    assert_eq!(generation(&gateway).await, 21);
}

/// Waits (polling the admin API) until the generation passes `after`, for at most `limit`.
async fn wait_for_generation_after(gateway: &TestGateway, after: u64, limit: Duration) -> Duration {
    let started = Instant::now();
    while generation(gateway).await <= after {
        assert!(started.elapsed() < limit, "no reload within {limit:?}");
        tokio::task::yield_now().await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_disk_goes_live_without_a_restart() {
    let gateway = start_version_a(true).await;
    let before = generation(&gateway).await;
    install_plugin(&gateway.dir, 'b');
    gateway.rewrite(&version('b', true));
    wait_for_generation_after(&gateway, before, Duration::from_secs(10)).await;
    let r = http1().get(&gateway.url("/r")).await;
    assert_eq!(r.body, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_style_symlink_swap_is_reloaded() {
    // Kubernetes mounts: gateway.toml -> ..data/gateway.toml, ..data -> ..<timestamp>/.
    let dir = scratch_dir();
    let first = dir.join("..2026_a");
    std::fs::create_dir(&first).unwrap();
    install_plugin(&dir, 'a');
    // Relative paths resolve against the directory of the config path as given (the mount).
    let body = version('a', true);
    std::fs::write(
        first.join("gateway.toml"),
        wasmgate_tests::full_config(&body),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_a", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/gateway.toml", dir.join("gateway.toml")).unwrap();
    let gateway = TestGateway::start_in(dir.clone(), "gateway.toml", "").await;
    assert_eq!(http1().get(&gateway.url("/r")).await.body, "a");

    let before = generation(&gateway).await;
    let second = dir.join("..2026_b");
    std::fs::create_dir(&second).unwrap();
    let body = version('a', true).replace(r#"body = "a""#, r#"body = "swapped""#);
    std::fs::write(
        second.join("gateway.toml"),
        wasmgate_tests::full_config(&body),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_b", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();

    wait_for_generation_after(&gateway, before, Duration::from_secs(10)).await;
    assert_eq!(http1().get(&gateway.url("/r")).await.body, "swapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_reload_keeps_the_old_config_and_says_why() {
    let gateway = start_version_a(false).await;
    let client = http1();
    gateway.rewrite(&version('a', false).replace("[[routes]]", "[[routes]]\nupstreem = \"x\""));
    let reload = client
        .send(Method::POST, &gateway.admin_url("/reload"), &[], "")
        .await;
    assert_eq!(reload.status, 400);
    let answer = reload.json();
    assert_eq!(answer["status"], "failed");
    assert_eq!(answer["generation"], 1);
    let report = answer["report"].as_str().unwrap();
    assert!(report.contains("unknown key `upstreem`"), "{report}");
    assert!(report.contains("gateway.toml:"), "{report}");

    // A plugin that rejects its config fails the reload the same way.
    gateway.rewrite(&version('a', false).replace("x-version", "bad header name"));
    let reload = client
        .send(Method::POST, &gateway.admin_url("/reload"), &[], "")
        .await;
    assert_eq!(reload.status, 400);

    let r = client.get(&gateway.url("/r")).await;
    assert_eq!((r.status.as_u16(), r.header("x-version")), (200, Some("a")));
    assert_eq!(generation(&gateway).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_only_reload_recompiles_nothing_and_keeps_unchanged_plugins() {
    let gateway = start_version_a(false).await;
    let compiled_before = gateway.inner().engine().compilations();
    let plugin_before = gateway.inner().snapshot().plugins["p"].clone();
    let wasm = gateway.dir.join("p.wasm");
    let wasm_reads_before = wasmgate::file_digest::times_read(&wasm);
    assert!(wasm_reads_before > 0, "hashed once at start");

    // Only a route changes: the plugin is kept as it was, warm instances and all.
    gateway.rewrite(&version('a', false).replace("[[routes]]", "[[routes]]\nid = \"renamed\""));
    gateway
        .inner()
        .reload(wasmgate::reload::Trigger::Admin)
        .await
        .unwrap();
    let snapshot = gateway.inner().snapshot();
    assert_eq!(snapshot.generation, 2);
    assert!(Arc::ptr_eq(&plugin_before, &snapshot.plugins["p"]));

    // The plugin's config changes: it is configured anew, but its component is not recompiled.
    gateway.rewrite(&version('a', false).replace(
        r#""x-version" = "a""#,
        r#""x-version" = "a", "x-more" = "1""#,
    ));
    gateway
        .inner()
        .reload(wasmgate::reload::Trigger::Admin)
        .await
        .unwrap();
    let snapshot = gateway.inner().snapshot();
    assert!(!Arc::ptr_eq(&plugin_before, &snapshot.plugins["p"]));
    assert_eq!(gateway.inner().engine().compilations(), compiled_before);
    assert_eq!(
        wasmgate::file_digest::times_read(&wasm),
        wasm_reads_before,
        "two config-only reloads read and hashed no .wasm"
    );
    assert_eq!(
        http1().get(&gateway.url("/r")).await.header("x-more"),
        Some("1")
    );
}

#[tokio::test]
async fn the_admin_api_reports_health_readiness_and_the_active_config() {
    let gateway = start_version_a(false).await;
    let client = http1();
    assert_eq!(client.get(&gateway.admin_url("/healthz")).await.status, 200);
    let ready = client.get(&gateway.admin_url("/readyz")).await;
    assert_eq!(
        (ready.status.as_u16(), &ready.json()["generation"]),
        (200, &1.into())
    );

    let config = client.get(&gateway.admin_url("/config")).await.json();
    let source = std::fs::read(gateway.dir.join("gateway.toml")).unwrap();
    assert_eq!(config["sha256"], sha256_hex(&source));
    assert_eq!(config["plugins"][0]["name"], "p");
    let component = std::fs::read(gateway.dir.join("p.wasm")).unwrap();
    assert_eq!(config["plugins"][0]["sha256"], sha256_hex(&component));
    assert!(config["loaded_at_unix_ms"].as_u64().unwrap() > 0);
    assert_eq!(client.get(&gateway.admin_url("/nope")).await.status, 404);
}

#[tokio::test]
async fn a_token_protects_the_admin_api_but_not_health_checks() {
    let gateway = TestGateway::start(
        "[admin]\naddress = \"127.0.0.1:0\"\ntoken = \"0123456789abcdef-token\"\n\n[[routes]]\npath = \"/x\"\nintegration = { type = \"mock\", status = 204 }\n",
    )
    .await;
    let client = http1();
    assert_eq!(client.get(&gateway.admin_url("/healthz")).await.status, 200);
    assert_eq!(client.get(&gateway.admin_url("/config")).await.status, 401);
    let reload = client
        .send(Method::POST, &gateway.admin_url("/reload"), &[], "")
        .await;
    assert_eq!(reload.status, 401);
    let wrong = [("authorization", "Bearer 0123456789abcdef-nope!")];
    assert_eq!(
        client
            .send(Method::GET, &gateway.admin_url("/config"), &wrong, "")
            .await
            .status,
        401
    );
    let right = [("authorization", "Bearer 0123456789abcdef-token")];
    assert_eq!(
        client
            .send(Method::GET, &gateway.admin_url("/config"), &right, "")
            .await
            .status,
        200
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
