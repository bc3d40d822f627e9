//! The WAF's verdict on a list of cases, natively, at a given paranoia level: the differential
//! bench (`bench/waf-diff/`) feeds it the cases it sends to ModSecurity.
//!
//! Reads `delivery<TAB>payload` lines on stdin, where the delivery is `query` (the payload as
//! a percent-encoded query value), `form` (a form field) or `json` (a JSON string field), and
//! prints one line per case: `1` when the request is blocked (403), `0` when it passes, then a
//! tab and the rule ids that matched (`-` for none).
//!
//! ```text
//! printf 'query\t1 or 1=1\njson\thello\n' | cargo run --release -p waf --example waf_verdicts -- 1
//! 1<TAB>942100
//! 0<TAB>-
//! ```

use std::io::{BufRead, Write};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use waf::Waf;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};

fn request(delivery: &str, payload: &str) -> Option<FakeRequest> {
    let encoded = utf8_percent_encode(payload, NON_ALPHANUMERIC).to_string();
    let request = match delivery {
        "query" => FakeRequest::new("GET", &format!("/search?q={encoded}")),
        "form" => FakeRequest::new("POST", "/comments")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("comment={encoded}")),
        "json" => FakeRequest::new("POST", "/comments")
            .header("content-type", "application/json")
            .body(serde_json::json!({ "comment": payload }).to_string()),
        _ => return None,
    };
    Some(request.header(
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    ))
}

fn main() {
    let paranoia: u8 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1);
    let plugin = testing::init::<Waf>(serde_json::json!({ "paranoia": paranoia }))
        .expect("paranoia is 1 to 4");
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is UTF-8 text");
        let Some((delivery, payload)) = line.split_once('\t') else {
            panic!("expected `delivery<TAB>payload`, got {line:?}");
        };
        let mut request = request(delivery, payload)
            .unwrap_or_else(|| panic!("unknown delivery {delivery:?}: use query, form or json"));
        let mut context = FakeContext::new();
        let action = testing::method_request(&plugin, &mut request, &mut context);
        let blocked = action.response().map(|r| r.status) == Some(403);
        let rules = context.get(waf::MATCHED_KEY).unwrap_or("-");
        writeln!(out, "{}\t{rules}", u8::from(blocked)).expect("stdout is writable");
    }
}
