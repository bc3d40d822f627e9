//! Config load → snapshot build, through the gateway's public API, on a config with every
//! built-in plugin (waf, validator, mapper, cors, headers, require-api-key twice) and 1,000
//! routes:
//!
//! - `parse_validate`: TOML text → validated `Config` (`wasmgate::config::parse`);
//! - `snapshot_build_compiled`: `Config` → `Snapshot` with an engine that already compiled the
//!   components (what a reload with a changed plugin config costs: configure + init each one);
//! - `snapshot_rebuild_reusing_plugins`: the same with the previous snapshot given, so the
//!   unchanged plugins and their pools are kept (a reload that changed only routes);
//! - `check_from_disk_cache`: `wasmgate::check` on the file — new engine, components loaded
//!   from the on-disk compiled cache, everything built (a cold start, minus compilation).
//!
//! Run: `cargo bench -p wasmgate-bench --bench config_load`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use wasmgate::snapshot::Snapshot;
use wasmgate_bench::fixtures::route_table;
use wasmgate_bench::harness::configs::{ConfigContext, read_realistic_chain};

const ROUTES: usize = 1_000;

fn config_text() -> String {
    let plugins_dir = PathBuf::from(env!("WASMGATE_PLUGINS_DIR"));
    let context = ConfigContext {
        backend: ([127, 0, 0, 1], 9).into(),
        cache_dir: plugins_dir.join("../wasmgate-bench-cache"),
        plugins_dir,
    };
    let fragment = read_realistic_chain().expect("realistic chain");
    format!(
        "{}\n{}",
        context
            .all_builtins(&fragment)
            .expect("all built-ins config"),
        route_table(ROUTES)
    )
}

fn config_load(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("wasmgate-config-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("gateway.toml");
    let text = config_text();
    std::fs::write(&path, &text).expect("write config");
    let config = wasmgate::config::parse(&path, &text)
        .unwrap_or_else(|errors| panic!("bench config:\n{errors}"));
    let engine = wasmgate::plugin::PluginEngine::new(&config.engine).expect("engine");
    let previous = runtime
        .block_on(Snapshot::build(config.clone(), &engine, 1))
        .unwrap_or_else(|errors| panic!("snapshot:\n{errors}"));

    let mut group = c.benchmark_group("config_load_1000_routes_7_plugins");
    group.sample_size(10);
    group.bench_function("parse_validate", |b| {
        b.iter(|| wasmgate::config::parse(black_box(&path), black_box(&text)).expect("config"));
    });
    group.bench_function("snapshot_build_compiled", |b| {
        b.iter_batched(
            || config.clone(),
            |config| {
                runtime
                    .block_on(Snapshot::build(config, &engine, 2))
                    .expect("snapshot")
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("snapshot_rebuild_reusing_plugins", |b| {
        b.iter_batched(
            || config.clone(),
            |config| {
                runtime
                    .block_on(Snapshot::build_with(config, &engine, 2, Some(&previous)))
                    .expect("snapshot")
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("check_from_disk_cache", |b| {
        b.iter(|| runtime.block_on(wasmgate::check(&path)).expect("check"));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, config_load);
criterion_main!(benches);
