//! Native per-request cost of the validator on a ~1 KB JSON body:
//! `cargo run --release -p validator --example validator_cost`.

use std::time::Instant;

use serde_json::json;
use validator::RequestValidator;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

fn main() {
    let plugin = testing::init::<RequestValidator>(json!({
        "headers": { "x-client-id": { "pattern": "^[a-z0-9-]{3,32}$" } },
        "body": { "models": { "application/json": { "schema": {
            "type": "object",
            "required": ["title", "year", "authors"],
            "properties": {
                "title": { "type": "string", "minLength": 1 },
                "year": { "type": "integer" },
                "authors": { "type": "array", "items": { "type": "object", "required": ["name"],
                    "properties": { "name": { "type": "string" }, "born": { "type": "integer" } } } },
                "summary": { "type": "string", "maxLength": 2000 },
            }
        }}}}
    }))
    .expect("valid config");
    let body = json!({
        "title": "Dune", "year": 1965,
        "authors": (0..8).map(|i| json!({ "name": format!("Author number {i}"), "born": 1900 + i })).collect::<Vec<_>>(),
        "summary": "x".repeat(600),
    })
    .to_string();
    const N: u32 = 20_000;
    let start = Instant::now();
    for _ in 0..N {
        let mut request = FakeRequest::new("POST", "/books")
            .header("content-type", "application/json")
            .header("x-client-id", "web-1")
            .body(body.clone());
        let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
        assert!(action.is_continue());
    }
    let per_call = start.elapsed() / N;
    println!(
        "validator: {} byte body, {per_call:?} per request (native, fake host)",
        body.len()
    );
}
