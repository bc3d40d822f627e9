//! Native per-request cost of the `rate_limiter` plugin (limit selection, subject, one bucket
//! check against the fake store, RateLimit headers at METHOD RESPONSE):
//! `cargo run --release -p rate_limiter --example rate_limiter_cost`.
//!
//! Prints one line, e.g. `rate_limiter: allowed by IP 1.1µs, … per request (native, fake host)`.

use std::time::{Duration, Instant};

use rate_limiter::RateLimiter;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};

const N: u32 = 100_000;

fn plugin(config: Value) -> RateLimiter {
    testing::init::<RateLimiter>(config).expect("valid config")
}

/// Both stages of `N` requests, checking the outcome.
fn per_request(plugin: &RateLimiter, allowed: bool, request: impl Fn() -> FakeRequest) -> Duration {
    let start = Instant::now();
    for _ in 0..N {
        let mut request = request();
        let mut context = FakeContext::new().with("gateway.route-id", "orders");
        let action = testing::method_request(plugin, &mut request, &mut context);
        assert_eq!(action.is_continue(), allowed);
        let mut response = FakeResponse::new(200);
        let _ = testing::method_response(plugin, &request, &mut response, &mut context);
    }
    start.elapsed() / N
}

fn main() {
    let generous = json!({ "rate": 1_000_000, "burst": 1_000_000 });
    let routes = json!({ "orders": { "rate": 1_000_000, "methods": { "POST": generous } } });
    let by_ip = plugin(json!({ "default": generous, "routes": routes }));
    let ip = per_request(&by_ip, true, || FakeRequest::new("POST", "/orders"));
    let by_header = plugin(json!({ "key": { "header": "authorization" }, "default": generous }));
    let header = per_request(&by_header, true, || {
        FakeRequest::new("GET", "/orders")
            .header("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
    });
    let tight = plugin(json!({ "default": { "rate": 1, "period": "1d" } }));
    let mut first = FakeRequest::new("GET", "/orders");
    assert!(testing::method_request(&tight, &mut first, &mut FakeContext::new()).is_continue());
    let refused = per_request(&tight, false, || FakeRequest::new("GET", "/orders"));
    println!(
        "rate_limiter: allowed by IP (method limit) {ip:?}, allowed by header {header:?}, refused {refused:?} per request, both stages (native, fake host)"
    );
}
