//! Whole-pipeline tests: a full valid config, defaults, and the fixtures the snapshot test reads
//! (`tests/fixtures/config/`). One test per kind of error is in `validate/tests.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/config")
}

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(Path::new("gw.toml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => errors.0,
    }
}

#[test]
fn loads_a_full_config_with_every_key() {
    let path = fixtures().join("valid/full.toml");
    let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let dir = std::path::absolute(path.parent().unwrap()).unwrap();
    assert_eq!(config.source, std::path::absolute(&path).unwrap());
    assert_eq!(config.source_digest.len(), 64);

    assert_eq!(config.gateway.request_id_header, "x-correlation-id");
    assert_eq!(config.gateway.max_body_bytes, 1_048_576);
    assert_eq!(config.gateway.shutdown_grace, Duration::from_secs(5));
    let listeners: Vec<_> = config
        .listeners
        .iter()
        .map(|l| (l.name.as_str(), l.address.to_string()))
        .collect();
    assert_eq!(
        listeners,
        [
            ("public", "127.0.0.1:8080".into()),
            ("listener-1", "[::1]:0".into())
        ]
    );
    assert_eq!(config.admin.address.to_string(), "0.0.0.0:9902");
    // Read from `admin-token.txt`, without its trailing newline.
    assert_eq!(
        config.admin.token.as_deref(),
        Some("full-fixture-admin-token-0123456789")
    );
    assert_eq!(
        (config.reload.watch, config.reload.debounce),
        (false, Duration::from_secs(1))
    );
    // Sorted by path, so the order depends on where the repository is checked out.
    let mut expected_watched = vec![
        Path::new("/opt/wasmgate/plugins/rate_limit.wasm").to_path_buf(),
        dir.join("admin-token.txt"),
        dir.join("keys.json"),
        dir.join("plugins/auth.wasm"),
    ];
    expected_watched.sort();
    assert_eq!(config.watched_files, expected_watched);
    assert_eq!(config.engine.cache_dir, Some(dir.join(".wasmgate-cache")));
    assert_eq!(
        (config.engine.max_instances, config.engine.max_memory_bytes),
        (256, 128 << 20)
    );
    assert_eq!(config.versioning.header, "x-version");
    assert_eq!(config.versioning.query_param, "api-version");
    assert_eq!(config.versioning.default_version.as_deref(), Some("v1"));

    let orders = &config.upstreams["orders"];
    assert_eq!(orders.targets[0].url, "http://127.0.0.1:9000/api");
    assert_eq!(
        (orders.connect_timeout, orders.timeout),
        (Duration::from_millis(500), Duration::from_secs(10))
    );
    let users = &config.upstreams["users"];
    assert_eq!(
        (users.targets[0].url.path(), users.timeout),
        ("/", Duration::from_secs(29))
    );

    let auth = &config.plugins["auth"];
    assert_eq!(auth.path, dir.join("plugins/auth.wasm"));
    assert_eq!(
        (auth.failure_policy, auth.instance_mode),
        (FailurePolicy::Closed, InstanceMode::Fresh)
    );
    assert_eq!(
        (auth.deadline, auth.memory_limit_bytes, auth.max_instances),
        (Duration::from_millis(50), 16 << 20, 32)
    );
    assert_eq!(
        auth.config,
        serde_json::json!({
            "header": "x-api-key", "keys": ["k1", "k2"], "rotated": "2025-03-01T12:00:00Z",
            "limits": {"burst": 10, "rate": 2.5, "strict": true},
        })
    );
    assert_eq!(
        auth.grants,
        BTreeSet::from([Capability::Kv, Capability::Metrics, Capability::RateLimit])
    );
    assert_eq!(
        (auth.grants_origin.line, auth.grants_origin.key.as_str()),
        (58, "plugins.auth.grants")
    );
    assert_eq!(
        auth.documents["jwks"].source,
        DocumentSource::Url {
            url: "http://idp.internal/jwks.json".parse().unwrap(),
            refresh: Duration::from_secs(60),
            timeout: Duration::from_secs(2),
        }
    );
    assert_eq!(auth.documents["jwks"].origin.line, 60);
    assert_eq!(
        auth.documents["keys"].source,
        DocumentSource::File(dir.join("keys.json"))
    );
    assert_eq!(
        config.store,
        StoreSettings {
            backend: StoreBackendDef::Redis {
                url: "redis://10.0.0.5:6379/2".into(),
                timeout: Duration::from_millis(20),
                connect_timeout: Duration::from_millis(300),
                key_prefix: "gw-eu".into(),
            },
            fail_open: false,
        }
    );
    assert_eq!((auth.path_origin.line, auth.path_origin.column), (52, 8));
    assert_eq!(auth.path_origin.key, "plugins.auth.path");
    assert_eq!(auth.path_origin.file, path);
    assert_eq!(
        (auth.config_origin.line, auth.config_origin.key.as_str()),
        (62, "plugins.auth.config")
    );
    let limiter = &config.plugins["rate-limit"];
    assert_eq!(
        limiter.path,
        Path::new("/opt/wasmgate/plugins/rate_limit.wasm")
    );
    assert_eq!(
        (limiter.failure_policy, limiter.instance_mode),
        (FailurePolicy::Open, InstanceMode::Pooled)
    );
    assert_eq!(
        (
            limiter.deadline,
            limiter.memory_limit_bytes,
            limiter.max_instances
        ),
        (Duration::from_millis(100), 32 << 20, 64)
    );
    assert_eq!(limiter.config, serde_json::json!({"per_minute": 600}));
    assert!(limiter.grants.is_empty() && limiter.documents.is_empty());
    assert_eq!(config.global_chain, ["auth"]);

    let ids: Vec<_> = config.routes.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "get-order",
            "GET /orders/{id} (v2)",
            "ANY /users/{*rest}",
            "POST /orders/{id} (v1)"
        ]
    );
    let get = &config.routes[0];
    assert_eq!(get.methods, [http::Method::GET, http::Method::HEAD]);
    assert_eq!(
        (
            get.path.as_str(),
            get.version.as_deref(),
            get.plugins.as_slice()
        ),
        ("/orders/{id}", Some("v1"), &["rate-limit".to_owned()][..])
    );
    assert!(matches!(&get.integration, Integration::Http { upstream, .. } if upstream == "orders"));
    let deprecation = get.deprecation.as_ref().unwrap();
    assert_eq!(
        (deprecation.since, deprecation.sunset),
        (Some(1_735_689_600), Some(1_782_770_400))
    );
    assert_eq!(
        deprecation.link.as_deref(),
        Some("https://example.com/migrate")
    );
    assert!(config.routes[2].methods.is_empty() && config.routes[2].version.is_none());
    let Integration::Mock(mock) = &config.routes[3].integration else {
        panic!("a mock")
    };
    assert_eq!(mock.status, 202);
    assert_eq!(mock.headers.len(), 2);
    assert_eq!(
        (
            mock.headers[0].0.as_str(),
            mock.headers[0].1.to_str().unwrap()
        ),
        ("content-type", "application/json")
    );
    assert_eq!(mock.body, r#"{"accepted":true}"#);

    let otlp = config.tracing.otlp.as_ref().expect("span export");
    // Written without a path: the collector's conventional one is added.
    assert_eq!(
        otlp.endpoint,
        "http://otel-collector.internal:4318/v1/traces"
    );
    assert_eq!(
        (otlp.service_name.as_str(), otlp.sample_ratio, otlp.timeout),
        ("edge-gateway", 0.1, Duration::from_millis(2500))
    );
    let headers: Vec<_> = otlp
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect();
    assert_eq!(
        headers,
        [
            ("authorization", "Bearer fixture-token"),
            ("x-tenant", "eu")
        ]
    );
}

#[test]
fn applies_defaults_to_a_minimal_config() {
    let config = parse(Path::new("gw.toml"), LISTENER).unwrap();
    assert_eq!(config.listeners[0].name, "listener-0");
    assert_eq!(config.gateway.request_id_header, "x-request-id");
    assert_eq!(config.gateway.max_body_bytes, 10 << 20);
    assert_eq!(config.gateway.shutdown_grace, Duration::from_secs(30));
    assert_eq!(config.admin.address.to_string(), "127.0.0.1:9901");
    assert_eq!(config.admin.token, None);
    assert_eq!(
        (config.reload.watch, config.reload.debounce),
        (true, Duration::from_millis(250))
    );
    assert!(config.watched_files.is_empty());
    assert_eq!(config.store, StoreSettings::default());
    assert_eq!(config.tracing, TracingSettings::default());
    assert_eq!(config.engine.cache_dir, None);
    assert_eq!(
        (config.engine.max_instances, config.engine.max_memory_bytes),
        (512, 256 << 20)
    );
    assert_eq!(
        (
            config.versioning.header.as_str(),
            config.versioning.query_param.as_str()
        ),
        ("x-api-version", "version")
    );
    assert!(
        config.routes.is_empty() && config.plugins.is_empty() && config.global_chain.is_empty()
    );
}

#[test]
fn lowers_plugin_defaults_to_the_engine_ceilings() {
    let config = parse(
        Path::new("gw.toml"),
        &format!("{LISTENER}[engine]\nmax_instances = 8\nmax_memory_mb = 16\n[plugins.a]\npath = \"a.wasm\"\n"),
    )
    .unwrap();
    assert_eq!(
        (
            config.plugins["a"].max_instances,
            config.plugins["a"].memory_limit_bytes
        ),
        (8, 16 << 20)
    );
}

#[test]
fn watches_each_referenced_file_once() {
    let plugins = "[plugins.b]\npath = \"b.wasm\"\n[plugins.a]\npath = \"p/a.wasm\"\n\
                   [plugins.c]\npath = \"b.wasm\"\n";
    let config = parse(
        Path::new("/etc/gw/gw.toml"),
        &format!("{LISTENER}{plugins}"),
    )
    .unwrap();
    assert_eq!(
        config.watched_files,
        [Path::new("/etc/gw/b.wasm"), Path::new("/etc/gw/p/a.wasm")]
    );
}

#[test]
fn reports_every_problem_in_file_order() {
    let text = std::fs::read_to_string(fixtures().join("invalid/several-errors.toml")).unwrap();
    let messages: Vec<_> = errors(&text)
        .into_iter()
        .map(|e| (e.line.unwrap(), e.message))
        .collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(
        messages.windows(2).all(|w| w[0].0 <= w[1].0),
        "{messages:#?}"
    );
}

#[test]
fn load_names_the_file_as_the_operator_did() {
    let missing = Path::new("does/not/exist.toml");
    let e = load(missing).unwrap_err();
    assert_eq!(e.0[0].file, missing);
    assert!(
        e.to_string()
            .starts_with("error: cannot read the config file: "),
        "{e}"
    );
}

/// The `invalid/` fixtures this layer rejects (the others are valid here and rejected later, by
/// the plugin host: a missing `.wasm`, a plugin rejecting its config, …).
const REJECTED_HERE: &[&str] = &[
    "admin-both-token-and-file",
    "admin-token-required",
    "bad-deprecation-date",
    "bad-listener-address",
    "bad-method",
    "bad-path-template",
    "bad-plugin-name",
    "bad-upstream-url",
    "duplicate-listener",
    "duplicate-route",
    "tls-files",
    "limit-out-of-range",
    "memory-above-engine-ceiling",
    "misplaced-integration-key",
    "missing-key",
    "mock-header",
    "mock-status",
    "no-listeners",
    "path-conflict",
    "plugin-twice-in-chain",
    "several-errors",
    "sunset-before-since",
    "toml-syntax",
    "tracing-header-value",
    "tracing-https-endpoint",
    "tracing-sample-ratio",
    "tracing-unknown-key",
    "tracing-without-endpoint",
    "unknown-enum-value",
    "unknown-integration-key",
    "unknown-plugin-in-chain",
    "unknown-top-level-key",
    "unknown-upstream",
    "unused-default-version",
    "wrong-value-type",
];

/// Each of this layer's fixtures starts with a comment saying what is wrong, and fails with
/// errors that point at a line (but for the one about the file as a whole).
#[test]
fn rejects_every_invalid_fixture_of_this_layer() {
    for name in REJECTED_HERE {
        let path = fixtures().join(format!("invalid/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# "),
            "{name}.toml must start with a `#` comment"
        );
        let Err(errors) = load(&path) else {
            panic!("{name}.toml loaded")
        };
        if *name != "no-listeners" {
            assert!(errors.0.iter().all(|e| e.line.is_some()), "{errors}");
        }
    }
}
