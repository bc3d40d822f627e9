//! Route lookup in a table of 1,000 routes (static, one and two parameters, catch-all), plus a
//! miss and a wrong method, through the gateway's public `Router`.
//!
//! Run: `cargo bench -p wasmgate-bench --bench routing`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use wasmgate::routing::{RouteMatch, Router};
use wasmgate_bench::fixtures::{lookups, route_table};

const ROUTES: usize = 1_000;

fn routing(c: &mut Criterion) {
    let text = format!(
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n{}",
        route_table(ROUTES)
    );
    let config = wasmgate::config::parse(Path::new("bench-routes.toml"), &text)
        .unwrap_or_else(|errors| panic!("route table config:\n{errors}"));
    let router = Router::new(&config.routes, &config.versioning).expect("router");
    let headers = HeaderMap::new();
    let host = Some(b"bench.example.com".as_slice());

    let mut group = c.benchmark_group("route_lookup_1000_routes");
    for lookup in lookups(ROUTES) {
        let expect_found = !matches!(lookup.name, "not_found" | "method_not_allowed");
        let found = matches!(
            router.lookup(&lookup.method, &lookup.path, host, &headers, None),
            RouteMatch::Found(_)
        );
        assert_eq!(found, expect_found, "{} {}", lookup.method, lookup.path);
        group.bench_function(lookup.name, |b| {
            b.iter(|| {
                black_box(router.lookup(
                    black_box(&lookup.method),
                    black_box(&lookup.path),
                    host,
                    &headers,
                    None,
                ))
            });
        });
    }
    group.finish();

    c.bench_function("router_build_1000_routes", |b| {
        b.iter(|| Router::new(black_box(&config.routes), &config.versioning).expect("router"));
    });
}

criterion_group!(benches, routing);
criterion_main!(benches);
