//! Shared set-up for the wasmgate benchmarks: load a compiled plugin the way the gateway does,
//! generated inputs ([`fixtures`]), and the load-test [`harness`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmgate::config::{EngineSettings, FailurePolicy, InstanceMode, Origin, PluginDef};
use wasmgate::plugin::{ConfiguredPlugin, PluginEngine};

pub mod fixtures;
pub mod harness;

/// The compiled plugin `crate_name` as the build scripts left it in `target/plugins/`.
pub fn plugin_path(crate_name: &str) -> PathBuf {
    Path::new(env!("WASMGATE_PLUGINS_DIR")).join(format!("{crate_name}.wasm"))
}

/// An engine with the gateway's default settings and no disk cache.
pub fn engine() -> Arc<PluginEngine> {
    PluginEngine::new(&EngineSettings {
        cache_dir: None,
        max_instances: 64,
        max_memory_bytes: 256 << 20,
    })
    .expect("engine")
}

/// Compiles and configures `crate_name` with `config`, in `mode`.
pub async fn configured(
    engine: &Arc<PluginEngine>,
    crate_name: &str,
    config: serde_json::Value,
    mode: InstanceMode,
) -> ConfiguredPlugin {
    let path = plugin_path(crate_name);
    let compiled = engine.compile(&path).expect("compile plugin");
    let origin = Origin {
        file: PathBuf::from("bench.toml"),
        line: 1,
        column: 1,
        key: format!("plugins.{crate_name}"),
    };
    let def = PluginDef {
        name: crate_name.to_owned(),
        path: path.clone(),
        config,
        failure_policy: FailurePolicy::Closed,
        instance_mode: mode,
        // Generous: a benchmark measures time, and must not fail because a loaded machine
        // descheduled a call past a production-sized deadline.
        deadline: Duration::from_secs(10),
        queue_timeout: Duration::from_secs(10),
        memory_limit_bytes: 32 << 20,
        max_instances: 8,
        // Whatever the component imports (`crypto` for the JWT plugin, `kv` for its cache).
        grants: compiled.imported_capabilities().clone(),
        grants_origin: origin.clone(),
        documents: Default::default(),
        path_origin: origin.clone(),
        config_origin: origin,
    };
    let store = wasmgate::store::SharedStore::open(&Default::default()).expect("memory store");
    let documents = wasmgate::plugin::Documents::default();
    ConfiguredPlugin::configure(&def, compiled, std::sync::Arc::new(store), documents)
        .await
        .expect("configure plugin")
}
