//! The cost of one plugin stage call: on a ready pooled instance, and with a fresh instance
//! (instantiate + init) per call.
//!
//! Run: `cargo bench -p wasmgate-bench --bench plugin_call`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use wasmgate::config::InstanceMode;
use wasmgate::exchange::{Exchange, Stage};
use wasmgate_bench::{configured, engine};

fn exchange() -> Box<Exchange> {
    let mut exchange = Box::<Exchange>::default();
    exchange.request.path = "/orders/42".into();
    exchange
        .request
        .headers
        .insert("x-api-key", http::HeaderValue::from_static("demo"));
    exchange
}

fn plugin_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = engine();
    let setup = |name: &str, config: serde_json::Value, mode| {
        runtime.block_on(configured(&engine, name, config, mode))
    };
    let noop_pooled = setup("noop", serde_json::json!({}), InstanceMode::Pooled);
    let noop_fresh = setup("noop", serde_json::json!({}), InstanceMode::Fresh);
    let api_key = setup(
        "require_api_key",
        serde_json::json!({}),
        InstanceMode::Pooled,
    );

    let mut group = c.benchmark_group("plugin_stage_call");
    let cases = [
        ("noop_pooled_instance", &noop_pooled),
        ("noop_fresh_instance", &noop_fresh),
        ("require_api_key_pooled_instance", &api_key),
    ];
    for (name, plugin) in cases {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let mut exchange = exchange();
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let action = plugin.call(Stage::MethodRequest, &mut exchange).await;
                        black_box(action.result.expect("plugin call"));
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
