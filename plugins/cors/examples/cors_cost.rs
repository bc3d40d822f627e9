//! Native per-request cost of the CORS plugin (preflight + actual response; bodies are not read):
//! `cargo run --release -p cors --example cors_cost`.

use std::time::Instant;

use cors::Cors;
use serde_json::json;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};

fn main() {
    let plugin = testing::init::<Cors>(json!({
        "allow_origins": ["https://app.example.com", "https://*.example.org"],
        "allow_headers": ["content-type"], "expose_headers": ["x-request-id"], "max_age_secs": 600,
    }))
    .expect("valid config");
    let body = "x".repeat(1024);
    const N: u32 = 100_000;
    let start = Instant::now();
    for _ in 0..N {
        let mut preflight = FakeRequest::new("OPTIONS", "/books")
            .header("origin", "https://a.example.org")
            .header("access-control-request-method", "POST");
        let action = testing::method_request(&plugin, &mut preflight, &mut FakeContext::new());
        assert!(!action.is_continue());
    }
    let preflight = start.elapsed() / N;
    let start = Instant::now();
    for _ in 0..N {
        let request =
            FakeRequest::new("POST", "/books").header("origin", "https://app.example.com");
        let mut response = FakeResponse::new(200).body(body.clone());
        let action =
            testing::method_response(&plugin, &request, &mut response, &mut FakeContext::new());
        assert!(action.is_continue());
    }
    let actual = start.elapsed() / N;
    println!(
        "cors: preflight {preflight:?}, actual response (1 KB body) {actual:?} per request (native, fake host)"
    );
}
