//! The WAF's native cost per request, at the default config (anomaly mode, paranoia 1, body
//! inspection on), through the SDK's fake host.
//!
//! ```text
//! cargo run --release -p waf --example waf_cost [-- "1 KB"]   # only the cases named so
//! WAF_COST_CONFIG='{"paranoia": 2}' cargo run --release -p waf --example waf_cost
//! init                                  …  ms/init
//! GET query+headers   …  µs/request
//! 1 KB book JSON      …  µs/request
//! 100 KB book JSON    …  µs/request
//! 1 KB JSON body      …  µs/request
//! 100 KB JSON body    …  µs/request
//! 100 KB text body    …  µs/request
//! ```
//!
//! Each figure is the mean of the fastest of five batches. This is native time; inside the gateway the plugin runs as Wasm (typically 1.2–2× slower)
//! plus the host's call and body-copy overhead, which the benchmark harness measures.

use std::hint::black_box;
use std::time::Instant;

use waf::Waf;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

fn json_body(target_len: usize) -> String {
    let mut items = Vec::new();
    let mut body = String::new();
    let mut i = 0;
    while body.len() < target_len {
        items.push(serde_json::json!({
            "sku": format!("SKU-{i:05}"),
            "name": "Men's running shoe, size 10",
            "note": "Please leave at the door; ring twice & wait.",
            "qty": i % 5 + 1,
            "price": 59.99,
        }));
        body =
            serde_json::json!({ "customer": "jane.doe@example.com", "items": items }).to_string();
        i += 1;
    }
    body
}

/// A book as the benchmark harness (`bench/benches/builtin_plugins.rs`) posts it: a few short
/// fields, a tags array and a description of repeated prose sentences, about `bytes` long.
fn book_body(bytes: usize) -> String {
    let description =
        "A stark desert world, a noble family, a spice that extends life. ".repeat(bytes / 66);
    serde_json::json!({
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "isbn": "978-0441013593",
        "tags": ["science fiction", "classic", "desert", "politics"],
        "description": description,
    })
    .to_string()
}

fn text_body(target_len: usize) -> String {
    let sentence = "It's a lovely day in O'Brien's garden; the cats and dogs play 5 or 6 games. ";
    sentence.repeat(target_len / sentence.len() + 1)[..target_len].to_owned()
}

/// Times `request` (built only when the case is selected) through `plugin`.
fn measure(label: &str, plugin: &Waf, request: impl FnOnce() -> FakeRequest) {
    if let Some(only) = std::env::args().nth(1)
        && !label.contains(&only)
    {
        return;
    }
    let request = &request();
    let iterations = if request.body_bytes().len() > 10_000 {
        300
    } else {
        20_000
    };
    for _ in 0..iterations / 10 {
        let mut r = request.clone();
        let _ = black_box(testing::method_request(
            plugin,
            &mut r,
            &mut FakeContext::new(),
        ));
    }
    // The fastest of a few batches: the least disturbed by whatever else the machine runs.
    let batches = 5;
    let per_batch = iterations / batches;
    let mut per_request = f64::INFINITY;
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..per_batch {
            let mut r = request.clone();
            let action = testing::method_request(plugin, &mut r, &mut FakeContext::new());
            assert!(action.is_continue(), "{label}: the benign body was blocked");
            let _ = black_box(action);
        }
        let mean = start.elapsed().as_secs_f64() * 1e6 / f64::from(per_batch);
        per_request = per_request.min(mean);
    }
    println!(
        "{label:<18} {:>7} bytes  {per_request:>9.1} µs/request",
        request.body_bytes().len()
    );
}

fn main() {
    // `WAF_COST_CONFIG='{"paranoia": 2}'` measures another config.
    let config = std::env::var("WAF_COST_CONFIG").map_or_else(
        |_| serde_json::json!({}),
        |text| serde_json::from_str(&text).expect("WAF_COST_CONFIG is a JSON object"),
    );
    let plugin = testing::init::<Waf>(config.clone()).expect("a valid config");
    if std::env::args()
        .nth(1)
        .is_none_or(|only| "init".contains(&only))
    {
        let start = Instant::now();
        for _ in 0..5 {
            let _ = black_box(testing::init::<Waf>(config.clone()));
        }
        let per_init = start.elapsed().as_secs_f64() * 1e3 / 5.0;
        println!("{:<32} {per_init:>9.1} ms/init", "init");
    }
    let request = |body: String, content_type: &str| {
        FakeRequest::new("POST", "/api/orders?source=web&page=2")
            .header("content-type", content_type)
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
            )
            .header("cookie", "session=abc123; theme=dark")
            .body(body)
    };
    let get = FakeRequest::new("GET", "/books?q=dune+messiah&page=2")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
        )
        .header("accept", "application/json")
        .header("origin", "https://app.example.com");
    measure("GET query+headers", &plugin, || get);
    let book = |body: String| {
        FakeRequest::new("POST", "/books")
            .header("content-type", "application/json")
            .header("origin", "https://app.example.com")
            .header("user-agent", "bench/1.0")
            .body(body)
    };
    measure("1 KB book JSON", &plugin, || book(book_body(1024)));
    measure("100 KB book JSON", &plugin, || book(book_body(100 * 1024)));
    measure("1 KB JSON body", &plugin, || {
        request(json_body(1024), "application/json")
    });
    measure("100 KB JSON body", &plugin, || {
        request(json_body(100 * 1024), "application/json")
    });
    measure("100 KB text body", &plugin, || {
        request(text_body(100 * 1024), "text/plain")
    });
}
