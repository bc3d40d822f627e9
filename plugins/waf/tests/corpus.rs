//! The attack and benign corpora of `tests/fixtures/waf/` through the plugin at its default
//! config (anomaly mode) at paranoia 1 and 2. Prints, per class, the share of attack requests
//! blocked and of benign requests blocked:
//!
//! ```text
//! cargo test -p waf --test corpus -- --nocapture
//! tuned corpus, paranoia 1 (6 deliveries per attack, 2 per benign value, bodies as JSON)
//!   sqli        … payloads    … requests  blocked  …%
//!   …
//!   benign      … values      … requests  blocked  …%
//! ```
//!
//! The tuned corpus (`attacks/`, `attacks/paranoia-2/` at paranoia 2 only, `generated/`,
//! `benign/`) is what the rules were written against; the held-out corpus (`held-out/`) was
//! partly derived from the tuned corpus, its false positives have been tuned on since 2026-12-04
//! and its misses since 2026-12-05, so it is not an independent sample and its figures flatter
//! the WAF too. Both are asserted against the detection targets of issue 15
//! and against their measured rates, with small margins: at paranoia 1 the false-positive
//! ceilings are under the issue's 0.5 % target.

use std::fmt::Write as _;
use std::path::PathBuf;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use waf::Waf;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

const CLASSES: [&str; 4] = ["sqli", "xss", "traversal", "command"];

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

fn plugin(paranoia: u8) -> Waf {
    testing::init::<Waf>(serde_json::json!({ "paranoia": paranoia })).expect("valid config")
}

fn blocked(plugin: &Waf, mut request: FakeRequest) -> bool {
    let action = testing::method_request(plugin, &mut request, &mut FakeContext::new());
    action.response().map(|r| r.status) == Some(403)
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn query(value: &str) -> FakeRequest {
    FakeRequest::new("GET", &format!("/search?q={}", encode(value)))
}

fn form(value: &str) -> FakeRequest {
    FakeRequest::new("POST", "/comments")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("comment={}", encode(value)))
}

fn json(value: &str) -> FakeRequest {
    FakeRequest::new("POST", "/comments")
        .header("content-type", "application/json")
        .body(serde_json::json!({ "comment": value }).to_string())
}

/// The three deliveries of the issue's outside corpus: a query value, a form field, a JSON
/// string.
fn plain_deliveries(value: &str) -> Vec<(&'static str, FakeRequest)> {
    vec![
        ("query", query(value)),
        ("form", form(value)),
        ("json", json(value)),
    ]
}

/// The plain deliveries and three harder ones: double-encoded, in a cookie, upper-cased
/// (payloads without `\` escapes, which are case-sensitive).
fn all_deliveries(payload: &str) -> Vec<(&'static str, FakeRequest)> {
    let mut out = plain_deliveries(payload);
    out.push(("query double-encoded", query(&encode(payload))));
    out.push((
        "cookie",
        FakeRequest::new("GET", "/").header("cookie", format!("session={}", encode(payload))),
    ));
    if !payload.contains('\\') {
        out.push(("query upper-case", query(&payload.to_uppercase())));
    }
    out
}

/// Requests and blocks of one class.
#[derive(Default)]
struct Tally {
    cases: usize,
    requests: usize,
    blocked: usize,
    examples: Vec<String>,
}

impl Tally {
    fn percent(&self) -> f64 {
        100.0 * self.blocked as f64 / self.requests.max(1) as f64
    }

    fn line(&self, label: &str) -> String {
        format!(
            "  {label:<10} {:>5} cases {:>6} requests  blocked {:>5.1} %",
            self.cases,
            self.requests,
            self.percent()
        )
    }
}

/// One corpus run: a tally per attack class, all attacks, and benign requests.
struct Report {
    classes: Vec<(&'static str, Tally)>,
    attacks: Tally,
    benign: Tally,
}

impl Report {
    fn class(&self, name: &str) -> &Tally {
        &self
            .classes
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a class")
            .1
    }

    fn print(&self, title: &str) {
        let mut out = format!("{title}\n");
        for (name, tally) in &self.classes {
            let _ = writeln!(out, "{}", tally.line(name));
        }
        let _ = writeln!(out, "{}", self.attacks.line("attacks"));
        let _ = writeln!(out, "{}", self.benign.line("benign"));
        println!("{out}");
    }
}

/// Sends every attack and benign case of a corpus through `plugin`.
fn run(
    plugin: &Waf,
    attack_files: &dyn Fn(&str) -> Vec<String>,
    benign_values: &[String],
    benign_bodies: &[String],
    deliveries: fn(&str) -> Vec<(&'static str, FakeRequest)>,
) -> Report {
    let mut classes = Vec::new();
    let mut attacks = Tally::default();
    for class in CLASSES {
        let mut tally = Tally::default();
        for payload in attack_files(class) {
            tally.cases += 1;
            for (delivery, request) in deliveries(&payload) {
                tally.requests += 1;
                if blocked(plugin, request) {
                    tally.blocked += 1;
                } else {
                    tally
                        .examples
                        .push(format!("{class} via {delivery}: {payload}"));
                }
            }
        }
        attacks.cases += tally.cases;
        attacks.requests += tally.requests;
        attacks.blocked += tally.blocked;
        attacks.examples.extend(tally.examples.iter().cloned());
        classes.push((class, tally));
    }
    let mut benign = Tally::default();
    for value in benign_values {
        benign.cases += 1;
        for (delivery, request) in plain_deliveries(value) {
            benign.requests += 1;
            if blocked(plugin, request) {
                benign.blocked += 1;
                benign
                    .examples
                    .push(format!("value via {delivery}: {value}"));
            }
        }
    }
    for body in benign_bodies {
        serde_json::from_str::<serde_json::Value>(body).expect("benign bodies are JSON");
        benign.cases += 1;
        benign.requests += 1;
        let request = FakeRequest::new("POST", "/api/items")
            .header("content-type", "application/json")
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
            )
            .body(body.as_str());
        if blocked(plugin, request) {
            benign.blocked += 1;
            benign.examples.push(format!("body: {body}"));
        }
    }
    Report {
        classes,
        attacks,
        benign,
    }
}

fn tuned(paranoia: u8) -> Report {
    let attack_files = |class: &str| {
        let mut payloads = lines(&format!("attacks/{class}.txt"));
        payloads.extend(lines(&format!("generated/{class}.txt")));
        // Evasions only the broad rules of paranoia 2 catch.
        if paranoia >= 2 {
            payloads.extend(lines(&format!("attacks/paranoia-2/{class}.txt")));
        }
        payloads
    };
    let mut bodies = lines("benign/bodies.jsonl");
    // Benign bodies the WAF is known to block at paranoia 1 count as false positives.
    bodies.extend(lines("benign/known_false_positives.jsonl"));
    let mut values = lines("benign/values.txt");
    values.extend(lines("benign/tricky.txt"));
    let report = run(
        &plugin(paranoia),
        &attack_files,
        &values,
        &bodies,
        all_deliveries,
    );
    report.print(&format!(
        "tuned corpus, paranoia {paranoia} (6 deliveries per attack; benign values as query, \
         form and JSON; bodies as JSON)"
    ));
    // `WAF_CORPUS_LIST=1` lists every miss and false positive (of the tuned corpus only).
    if std::env::var_os("WAF_CORPUS_LIST").is_some() {
        println!("{}", listing(&report.attacks.examples));
        println!("{}", listing(&report.benign.examples));
    }
    report
}

fn held_out(paranoia: u8) -> Report {
    let attack_files = |class: &str| lines(&format!("held-out/{class}.txt"));
    let report = run(
        &plugin(paranoia),
        &attack_files,
        &lines("held-out/benign.txt"),
        &[],
        plain_deliveries,
    );
    report.print(&format!(
        "held-out corpus, paranoia {paranoia} (query, form and JSON deliveries)"
    ));
    // Tuned on since 2026-12-04 for its false positives and since 2026-12-05 for its misses:
    // `WAF_CORPUS_LIST=1` lists both.
    if std::env::var_os("WAF_CORPUS_LIST").is_some() {
        println!("{}", listing(&report.attacks.examples));
        println!("{}", listing(&report.benign.examples));
    }
    report
}

fn listing(examples: &[String]) -> String {
    examples.join("\n")
}

/// The measured share of tuned benign requests blocked at paranoia 1 (0.07 %: the one known
/// false positive, the password `p@ss'w0rd"--#` of `known_false_positives.jsonl`), rounded up
/// a little; under the issue's 0.5 % target.
const TUNED_BENIGN_CEILING: f64 = 0.1;

/// The measured share of tuned benign requests blocked at paranoia 2 (7.6 %), rounded up a
/// little: paranoia 2 counts every mention in prose.
const TUNED_BENIGN_CEILING_2: f64 = 7.7;

/// The measured shares of held-out benign requests blocked (0.0 % at paranoia 1, 7.7 % at
/// paranoia 2), rounded up a little. At paranoia 1 the ceiling (0.5 %, the issue's target) is
/// below one value's share (three requests of 468): no held-out benign value may be blocked.
/// Its false positives were tuned on since 2026-12-04 (see `tests/fixtures/waf/README.md`).
const HELD_OUT_BENIGN_CEILING: [f64; 2] = [0.5, 8.0];

/// The measured shares of held-out attack requests blocked (98.4 % at paranoia 1, 100 % at
/// paranoia 2), rounded down a little; the issue asks for 95 % and 98 %.
const HELD_OUT_ATTACK_FLOOR: [f64; 2] = [98.0, 99.5];

#[test]
fn tuned_corpus_at_paranoia_1_blocks_95_percent_of_each_class_and_stays_under_its_benign_ceiling() {
    let report = tuned(1);
    for class in CLASSES {
        let tally = report.class(class);
        assert!(
            tally.percent() >= 95.0,
            "{class}: {:.1} % blocked; missed:\n{}",
            tally.percent(),
            listing(&tally.examples)
        );
    }
    assert!(
        report.attacks.percent() >= 98.0,
        "{:.1} % of attacks blocked; missed:\n{}",
        report.attacks.percent(),
        listing(&report.attacks.examples)
    );
    assert!(
        report.benign.percent() < TUNED_BENIGN_CEILING,
        "{:.2} % of benign requests blocked:\n{}",
        report.benign.percent(),
        listing(&report.benign.examples)
    );
}

#[test]
fn tuned_corpus_at_paranoia_2_blocks_98_percent_of_each_class() {
    let report = tuned(2);
    for class in CLASSES {
        let tally = report.class(class);
        assert!(
            tally.percent() >= 98.0,
            "{class}: {:.1} % blocked; missed:\n{}",
            tally.percent(),
            listing(&tally.examples)
        );
    }
    // Paranoia 2 trades precision for detection: mentions in prose count, so the tuned benign
    // corpus, full of them, loses several percent.
    assert!(
        report.benign.percent() < TUNED_BENIGN_CEILING_2,
        "{:.2} % of benign requests blocked:\n{}",
        report.benign.percent(),
        listing(&report.benign.examples)
    );
}

/// The detection targets hold on the held-out corpus too ([`HELD_OUT_ATTACK_FLOOR`]), and its
/// false-positive rate stays under [`HELD_OUT_BENIGN_CEILING`]. Its misses and false positives
/// are listed (`WAF_CORPUS_LIST=1`), since both were tuned on.
#[test]
fn held_out_corpus_at_paranoia_1_and_2_meets_the_detection_targets_and_benign_ceilings() {
    let first = held_out(1);
    let second = held_out(2);
    for (paranoia, report) in [(1, &first), (2, &second)] {
        let floor = HELD_OUT_ATTACK_FLOOR[paranoia - 1];
        assert!(
            report.attacks.percent() >= floor,
            "{:.1} % of held-out attacks blocked at paranoia {paranoia} (floor {floor} %)",
            report.attacks.percent()
        );
    }
    for (paranoia, report) in [(1, &first), (2, &second)] {
        let ceiling = HELD_OUT_BENIGN_CEILING[paranoia - 1];
        assert!(
            report.benign.percent() < ceiling,
            "{:.2} % of held-out benign requests blocked at paranoia {paranoia} (ceiling {ceiling} %)",
            report.benign.percent()
        );
    }
}
