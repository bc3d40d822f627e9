//! Compares what a stage call did with what a fixture case expects: the response (the
//! plugin's own or the edited one), the edited request and the context, one [`Mismatch`] per
//! expectation that did not hold.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::diff::Mismatch;
use super::fixtures::{self, Expect, ExpectRequest, HeaderValues};
use crate::exchange::{ContextBag, Exchange, ResponseState};

pub(super) fn check_response(
    expect: &Expect,
    response: Option<&ResponseState>,
    out: &mut Vec<Mismatch>,
) {
    let wants_response = expect.status.is_some()
        || !expect.headers.is_empty()
        || !expect.absent_headers.is_empty()
        || expect.body.is_some()
        || expect.body_json.is_some();
    if !wants_response {
        return;
    }
    let Some(response) = response else {
        out.push(Mismatch::new(
            "response",
            "a response to check",
            "none (the request went on)",
        ));
        return;
    };
    if let Some(status) = expect.status
        && status != response.status.as_u16()
    {
        out.push(Mismatch::new(
            "status",
            status.to_string(),
            response.status.as_u16().to_string(),
        ));
    }
    check_headers(
        "header",
        &expect.headers,
        &expect.absent_headers,
        &response.headers,
        out,
    );
    let body = response.body.as_deref().unwrap_or_default();
    check_body(expect.body.as_deref(), expect.body_json.as_ref(), body, out);
}

pub(super) fn check_request(wanted: &ExpectRequest, exchange: &Exchange, out: &mut Vec<Mismatch>) {
    let request = &exchange.request;
    if let Some(method) = &wanted.method
        && method != request.method.as_str()
    {
        out.push(Mismatch::new(
            "request method",
            method,
            request.method.as_str(),
        ));
    }
    if let Some(path) = &wanted.path
        && *path != request.path
    {
        out.push(Mismatch::new("request path", path, &request.path));
    }
    if let Some(query) = &wanted.query {
        let actual = request.query.as_deref().unwrap_or_default();
        if query != actual {
            out.push(Mismatch::new("request query", query, actual));
        }
    }
    check_headers(
        "request header",
        &wanted.headers,
        &wanted.absent_headers,
        &request.headers,
        out,
    );
    let body = request.body.as_deref().unwrap_or_default();
    check_body(wanted.body.as_deref(), wanted.body_json.as_ref(), body, out);
}

fn check_headers(
    what: &str,
    wanted: &BTreeMap<String, HeaderValues>,
    absent: &[String],
    actual: &HeaderMap,
    out: &mut Vec<Mismatch>,
) {
    let values = |name: &str| -> Vec<String> {
        actual
            .get_all(name.to_ascii_lowercase())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let show = |values: &[String]| match values {
        [] => "(absent)".to_owned(),
        [one] => format!("{one:?}"),
        many => format!("{many:?}"),
    };
    for (name, expected) in wanted {
        let expected: Vec<String> = expected.values().into_iter().map(str::to_owned).collect();
        let got = values(name);
        if got != expected {
            out.push(Mismatch::new(
                format!("{what} {name}"),
                show(&expected),
                show(&got),
            ));
        }
    }
    for name in absent {
        let got = values(name);
        if !got.is_empty() {
            out.push(Mismatch::new(
                format!("{what} {name}"),
                "(absent)",
                show(&got),
            ));
        }
    }
}

fn check_body(
    text: Option<&str>,
    json: Option<&toml::Value>,
    actual: &[u8],
    out: &mut Vec<Mismatch>,
) {
    if let Some(text) = text
        && text.as_bytes() != actual
    {
        out.push(Mismatch::new("body", text, String::from_utf8_lossy(actual)));
    }
    if let Some(json) = json {
        let expected = fixtures::to_json(json);
        let pretty =
            |value: &serde_json::Value| serde_json::to_string_pretty(value).unwrap_or_default();
        match serde_json::from_slice::<serde_json::Value>(actual) {
            Ok(got) if got == expected => {}
            Ok(got) => out.push(Mismatch::new(
                "body (JSON)",
                pretty(&expected),
                pretty(&got),
            )),
            Err(error) => out.push(Mismatch::new(
                "body (JSON)",
                pretty(&expected),
                format!("{} (not JSON: {error})", String::from_utf8_lossy(actual)),
            )),
        }
    }
}

pub(super) fn check_context(expect: &Expect, context: &ContextBag, out: &mut Vec<Mismatch>) {
    for (key, value) in &expect.context {
        match context.get(key) {
            Some(got) if got == value => {}
            got => out.push(Mismatch::new(
                format!("context {key}"),
                format!("{value:?}"),
                got.map_or("(absent)".to_owned(), |v| format!("{v:?}")),
            )),
        }
    }
    for key in &expect.absent_context {
        if let Some(got) = context.get(key) {
            out.push(Mismatch::new(
                format!("context {key}"),
                "(absent)",
                format!("{got:?}"),
            ));
        }
    }
}
