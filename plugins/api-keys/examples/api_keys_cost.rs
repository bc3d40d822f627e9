//! Native per-request cost of the `api_keys` plugin (key lookup, throttle and quota against the
//! fake store, context writes, key removal) with a small keys document attached, and the cost of
//! re-reading a 10,000-key document (once per document version, per instance):
//! `cargo run --release -p api_keys --example api_keys_cost`.
//!
//! Prints one line per case, e.g. `api_keys: throttle + quota 1.2µs per request (…)`.

use std::time::{Duration, Instant};

use api_keys::{ApiKeys, hash_key};
use serde_json::json;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

const N: u32 = 100_000;

fn per_request(plugin: &ApiKeys, secret: &str, expect_continue: bool) -> Duration {
    let start = Instant::now();
    for _ in 0..N {
        let mut request = FakeRequest::new("GET", "/orders").header("x-api-key", secret);
        let action = testing::method_request(plugin, &mut request, &mut FakeContext::new());
        assert_eq!(action.is_continue(), expect_continue);
    }
    start.elapsed() / N
}

fn keys_file(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "[[keys]]\nid = \"k-{i}\"\nhash = \"{}\"\nplan = \"gold\"\n",
                hash_key(&format!("s-{i}"))
            )
        })
        .collect()
}

fn main() {
    let plans = json!({
        "gold": {
            "throttle": { "rate": 1_000_000, "burst": 1_000_000 },
            "quota": { "limit": 1_000_000_000u64, "period": "month" },
        },
        "open": {},
    });
    testing::set_document("keys", keys_file(10).as_bytes());
    let plugin = testing::init::<ApiKeys>(json!({
        "plans": plans,
        "keys": [
            { "id": "k-gold", "hash": hash_key("gold-secret"), "plan": "gold" },
            { "id": "k-open", "hash": hash_key("open-secret"), "plan": "open" },
        ],
        "keys_document": "keys",
    }))
    .expect("valid config");
    let metered = per_request(&plugin, "gold-secret", true);
    let open = per_request(&plugin, "open-secret", true);
    let unknown = per_request(&plugin, "guess-secret", false);
    let big = keys_file(10_000);
    let start = Instant::now();
    const RELOADS: u32 = 20;
    for _ in 0..RELOADS {
        testing::set_document("keys", big.as_bytes());
        let mut request = FakeRequest::new("GET", "/").header("x-api-key", "open-secret");
        let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
        assert!(action.is_continue());
    }
    let reload = start.elapsed() / RELOADS;
    println!(
        "api_keys: throttle + quota {metered:?}, no plan limits {open:?}, unknown key {unknown:?} per request; re-reading a 10,000-key document {reload:?} (native, fake host)"
    );
}
