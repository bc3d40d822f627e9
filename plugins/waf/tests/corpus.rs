//! The attack and benign corpora of `tests/fixtures/waf/` through the plugin at its default
//! config (anomaly mode, paranoia 1): every attack in every delivery must be blocked, no benign
//! request may be. Prints the detection and false-positive rates (`cargo test -p waf --test
//! corpus -- --nocapture`).

use std::path::PathBuf;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use waf::Waf;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

fn fixture(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/waf")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The non-empty, non-comment lines of a corpus file.
fn lines(path: &str) -> Vec<String> {
    fixture(path)
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

fn plugin() -> Waf {
    testing::init::<Waf>(serde_json::json!({})).expect("default config")
}

fn blocked(plugin: &Waf, mut request: FakeRequest) -> bool {
    let action = testing::method_request(plugin, &mut request, &mut FakeContext::new());
    action.response().map(|r| r.status) == Some(403)
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The ways an attack payload is delivered.
fn deliveries(payload: &str) -> Vec<(&'static str, FakeRequest)> {
    let json = serde_json::json!({ "comment": payload }).to_string();
    let mut out = vec![
        (
            "query",
            FakeRequest::new("GET", &format!("/search?q={}", encode(payload))),
        ),
        (
            "query double-encoded",
            FakeRequest::new("GET", &format!("/search?q={}", encode(&encode(payload)))),
        ),
        (
            "json body",
            FakeRequest::new("POST", "/comments")
                .header("content-type", "application/json")
                .body(json),
        ),
        (
            "form body",
            FakeRequest::new("POST", "/comments")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("comment={}", encode(payload))),
        ),
        (
            "cookie",
            FakeRequest::new("GET", "/").header("cookie", format!("session={}", encode(payload))),
        ),
    ];
    // Escapes like `\u003c` are case-sensitive; every other payload is tried upper-cased too.
    if !payload.contains('\\') {
        let upper = payload.to_uppercase();
        out.push((
            "query upper-case",
            FakeRequest::new("GET", &format!("/search?q={}", encode(&upper))),
        ));
    }
    out
}

#[test]
fn blocks_every_attack_of_the_corpus_and_no_benign_request() {
    let plugin = plugin();
    let mut missed = Vec::new();
    let mut total = 0;
    println!("attack corpus (default config: anomaly, paranoia 1)");
    for class in ["sqli", "xss", "traversal", "command"] {
        let payloads = lines(&format!("attacks/{class}.txt"));
        let mut class_total = 0;
        let mut class_missed = 0;
        for payload in &payloads {
            for (delivery, request) in deliveries(payload) {
                class_total += 1;
                if !blocked(&plugin, request) {
                    class_missed += 1;
                    missed.push(format!("{class} via {delivery}: {payload}"));
                }
            }
        }
        total += class_total;
        println!(
            "  {class:<10} {} payloads, {class_total} requests, detected {:.1} %",
            payloads.len(),
            100.0 * (class_total - class_missed) as f64 / class_total as f64
        );
    }
    let detection = 100.0 * (total - missed.len()) as f64 / total as f64;
    println!("  all        {total} requests, detection rate {detection:.1} %");

    let mut false_positives = Vec::new();
    let values = lines("benign/values.txt");
    let bodies = lines("benign/bodies.jsonl");
    let mut benign_total = 0;
    for value in &values {
        let json = serde_json::json!({ "q": value }).to_string();
        let requests = [
            (
                "query",
                FakeRequest::new("GET", &format!("/search?q={}", encode(value))),
            ),
            (
                "json body",
                FakeRequest::new("POST", "/search")
                    .header("content-type", "application/json")
                    .body(json),
            ),
        ];
        for (delivery, request) in requests {
            benign_total += 1;
            if blocked(&plugin, request) {
                false_positives.push(format!("value via {delivery}: {value}"));
            }
        }
    }
    for body in &bodies {
        serde_json::from_str::<serde_json::Value>(body).expect("benign bodies are JSON");
        benign_total += 1;
        let request = FakeRequest::new("POST", "/api/items")
            .header("content-type", "application/json")
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
            )
            .body(body.as_str());
        if blocked(&plugin, request) {
            false_positives.push(format!("body: {body}"));
        }
    }
    // Benign requests the WAF is known to block at paranoia 1, kept in view (see the README).
    let known = lines("benign/known_false_positives.jsonl");
    let mut known_blocked = 0;
    for body in &known {
        benign_total += 1;
        let request = FakeRequest::new("POST", "/api/items")
            .header("content-type", "application/json")
            .body(body.as_str());
        if blocked(&plugin, request) {
            known_blocked += 1;
        }
    }
    let fp_rate = 100.0 * (false_positives.len() + known_blocked) as f64 / benign_total as f64;
    println!(
        "benign corpus: {} values, {} bodies, {} known false positives, {benign_total} requests, \
         false-positive rate {fp_rate:.1} % ({known_blocked} known)",
        values.len(),
        bodies.len(),
        known.len()
    );
    assert!(
        missed.is_empty(),
        "{} attacks passed:\n{}",
        missed.len(),
        missed.join("\n")
    );
    assert!(
        false_positives.is_empty(),
        "{} benign requests blocked:\n{}",
        false_positives.len(),
        false_positives.join("\n")
    );
}
