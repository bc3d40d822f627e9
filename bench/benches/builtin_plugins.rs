//! The cost of each built-in plugin on a typical request with a 1 KB JSON body, inside the Wasm
//! sandbox, through the same host calls the gateway makes (pooled instances).
//!
//! Run: `cargo bench -p wasmgate-bench --bench builtin_plugins`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderValue;
use serde_json::json;
use wasmgate::config::InstanceMode;
use wasmgate::exchange::{Exchange, ResponseState, Stage};
use wasmgate::plugin::ConfiguredPlugin;
use wasmgate_bench::{configured, engine};

/// A book of about 1 KB, as a client would POST it.
fn book(bytes: usize) -> Vec<u8> {
    let description =
        "A stark desert world, a noble family, a spice that extends life. ".repeat(bytes / 66);
    serde_json::to_vec(&json!({
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "isbn": "978-0441013593",
        "tags": ["science fiction", "classic", "desert", "politics"],
        "description": description,
    }))
    .expect("json")
}

fn exchange(body_bytes: usize) -> Exchange {
    let mut exchange = Exchange::default();
    exchange.request.method = http::Method::POST;
    exchange.request.path = "/books".into();
    let headers = &mut exchange.request.headers;
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "origin",
        HeaderValue::from_static("https://app.example.com"),
    );
    headers.insert("user-agent", HeaderValue::from_static("bench/1.0"));
    exchange.request.body = Some(book(body_bytes).into());
    exchange
        .context
        .insert("gateway.client-ip", "127.0.0.1".to_owned());
    exchange.response = Some(ResponseState::default());
    exchange
}

fn builtin_plugins(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = engine();
    let setup = |name: &str, config: serde_json::Value| {
        runtime.block_on(configured(&engine, name, config, InstanceMode::Pooled))
    };
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["title", "year"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "year": {"type": "integer"},
            "author": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}
        }
    });
    let cases: Vec<(&str, ConfiguredPlugin, Stage, usize)> = vec![
        (
            "validator_1kb",
            setup(
                "validator",
                json!({ "body": { "models": { "application/json": { "schema": schema } } } }),
            ),
            Stage::MethodRequest,
            1024,
        ),
        (
            "mapper_request_1kb",
            setup(
                "mapper",
                json!({ "request": {
                "method": "PUT",
                "path": "/tables/books",
                "body": "{\"TableName\": \"books\", \"Item\": {\"title\": {{ body.title }}, \"year\": {{ body.year }}, \"author\": {{ body.author }}}}"
            } }),
            ),
            Stage::IntegrationRequest,
            1024,
        ),
        (
            "cors_actual_response",
            setup(
                "cors",
                json!({ "allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST"] }),
            ),
            Stage::MethodResponse,
            1024,
        ),
        (
            "waf_1kb",
            setup("waf", json!({})),
            Stage::MethodRequest,
            1024,
        ),
        (
            "waf_100kb",
            setup("waf", json!({})),
            Stage::MethodRequest,
            100 * 1024,
        ),
    ];

    let mut group = c.benchmark_group("builtin_plugin_call");
    for (name, plugin, stage, body_bytes) in &cases {
        group.bench_function(*name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let template = exchange(*body_bytes);
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let mut exchange = Box::new(template.clone());
                        let action = plugin.call(*stage, &mut exchange).await;
                        black_box(action.result.expect("plugin call"));
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, builtin_plugins);
criterion_main!(benches);
