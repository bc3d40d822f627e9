//! The values of a request the WAF inspects, each with where it came from.

use std::cell::OnceCell;
use std::fmt::{self, Write as _};

use wasmgate_plugin_sdk::{BodyError, Request, log};

use crate::normalize::{Normalized, normalize};

/// Where a value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    QueryName,
    QueryValue(String),
    /// Every query value joined: catches a payload split across parameters.
    Combined,
    Header(String),
    CookieName,
    Cookie(String),
    /// The whole body, as text.
    Body,
    /// A field of a JSON or form body (JSON: a dotted path, keys are `…#key`).
    BodyField(String),
}

impl fmt::Display for Location {
    /// A label for the log: names only, never values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Path => f.write_str("path"),
            Location::QueryName => f.write_str("query-name"),
            Location::QueryValue(name) => write!(f, "query:{name}"),
            Location::Combined => f.write_str("query-combined"),
            Location::Header(name) => write!(f, "header:{name}"),
            Location::CookieName => f.write_str("cookie-name"),
            Location::Cookie(name) => write!(f, "cookie:{name}"),
            Location::Body => f.write_str("body"),
            Location::BodyField(name) => write!(f, "body:{name}"),
        }
    }
}

/// One inspected value.
pub(crate) struct Target {
    pub(crate) location: Location,
    pub(crate) value: String,
    /// Whether the built-in rules scan it (custom rules may read values that are not scanned).
    pub(crate) inspect: bool,
    plus_is_space: bool,
    normalized: OnceCell<Normalized>,
}

impl Target {
    pub(crate) fn new(location: Location, value: impl Into<String>, inspect: bool) -> Self {
        let plus_is_space = matches!(location, Location::Body | Location::Cookie(_));
        Target {
            location,
            value: value.into(),
            inspect,
            plus_is_space,
            normalized: OnceCell::new(),
        }
    }

    /// The value's normalised forms, computed once.
    pub(crate) fn normalized(&self) -> &Normalized {
        self.normalized
            .get_or_init(|| normalize(&self.value, self.plus_is_space))
    }
}

/// What to collect, from the config (inspection settings and what custom rules read).
#[derive(Debug, Default, Clone)]
pub(crate) struct Collect {
    pub(crate) path: bool,
    pub(crate) query: bool,
    pub(crate) cookies: bool,
    pub(crate) body: bool,
    /// Inspect every header (but `cookie` and `authorization`).
    pub(crate) all_headers: bool,
    /// Headers inspected by the built-in rules, lower-case.
    pub(crate) headers: Vec<String>,
    /// Headers read only by custom rules.
    pub(crate) extra_headers: Vec<String>,
    /// Read every header for custom rules.
    pub(crate) extra_all_headers: bool,
    /// Read the body for custom rules.
    pub(crate) extra_body: bool,
}

/// Headers never scanned with `headers = "all"`: credentials and the ones parsed separately.
const SKIPPED_HEADERS: &[&str] = &["cookie", "authorization", "proxy-authorization"];

/// The request's headers, read with one host call (`headers`) instead of one per name.
pub(crate) struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    /// Reads every header of `request`.
    pub(crate) fn read(request: &Request<'_>) -> Self {
        Headers(request.headers())
    }

    /// Every value of header `name` (lower-case), in order.
    pub(crate) fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.0
            .iter()
            .filter(move |(header, _)| header == name)
            .map(|(_, value)| value.as_slice())
    }

    /// The distinct names, in the order they first appear.
    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }
}

/// Collects the request's values.
pub(crate) fn collect(request: &Request<'_>, headers: &Headers, collect: &Collect) -> Vec<Target> {
    let mut targets = Vec::new();
    targets.push(Target::new(Location::Path, request.path(), collect.path));
    if let Some(query) = request.query() {
        let mut joined = String::new();
        let mut count = 0;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            targets.push(Target::new(
                Location::QueryName,
                name.as_ref(),
                collect.query,
            ));
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(&value);
            count += 1;
            targets.push(Target::new(
                Location::QueryValue(name.into_owned()),
                value,
                collect.query,
            ));
        }
        if count > 1 && collect.query {
            targets.push(Target::new(Location::Combined, joined, true));
        }
    }
    if collect.cookies {
        for value in headers.values("cookie") {
            let value = String::from_utf8_lossy(value);
            for pair in value.split(';') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = name.trim();
                targets.push(Target::new(Location::CookieName, name, true));
                targets.push(Target::new(
                    Location::Cookie(name.to_owned()),
                    value.trim(),
                    true,
                ));
            }
        }
    }
    collect_headers(headers, collect, &mut targets);
    if collect.body || collect.extra_body {
        collect_body(request, collect, &mut targets);
    }
    targets
}

fn collect_headers(headers: &Headers, collect: &Collect, targets: &mut Vec<Target>) {
    let names: Vec<&str> = if collect.all_headers || collect.extra_all_headers {
        headers.names()
    } else {
        collect
            .headers
            .iter()
            .chain(&collect.extra_headers)
            .map(String::as_str)
            .collect()
    };
    for name in names {
        let inspect = if collect.all_headers {
            !SKIPPED_HEADERS.contains(&name)
        } else {
            collect.headers.iter().any(|header| header == name)
        };
        for value in headers.values(name) {
            let value = String::from_utf8_lossy(value).into_owned();
            targets.push(Target::new(
                Location::Header(name.to_owned()),
                value,
                inspect,
            ));
        }
    }
}

/// The body's values: every JSON string and key, or form field, and the whole body as text
/// (inspected when it is neither). A JSON or form body as a whole is only read by custom
/// rules, so it is left out when none reads it.
fn collect_body(request: &Request<'_>, collect: &Collect, targets: &mut Vec<Target>) {
    let inspect = collect.body;
    let body = match request.body() {
        Ok(body) => body,
        Err(BodyError::TooLarge(cap)) => {
            log::warn(
                "waf: body larger than the buffering cap not inspected",
                &[("cap", &cap.to_string())],
            );
            return;
        }
        Err(err) => {
            log::warn("waf: body unavailable", &[("error", &err.to_string())]);
            return;
        }
    };
    if body.is_empty() {
        return;
    }
    let content_type = request
        .header_str("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut structured = false;
    if content_type.contains("json")
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body)
    {
        walk_json(json, &mut String::new(), inspect, targets);
        structured = true;
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (name, value) in form_urlencoded::parse(&body) {
            targets.push(Target::new(
                Location::BodyField(format!("{name}#key")),
                name.as_ref(),
                inspect,
            ));
            targets.push(Target::new(
                Location::BodyField(name.into_owned()),
                value,
                inspect,
            ));
        }
        structured = true;
    }
    if structured && !collect.extra_body {
        return;
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    targets.push(Target::new(Location::Body, text, inspect && !structured));
}

/// Every string (and key) of a JSON document, with its dotted path; the strings are moved, not
/// copied.
fn walk_json(value: serde_json::Value, path: &mut String, inspect: bool, out: &mut Vec<Target>) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            out.push(Target::new(
                Location::BodyField(path.clone()),
                text,
                inspect,
            ));
        }
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                let len = path.len();
                // Writing to a `String` cannot fail.
                let _ = write!(path, "[{index}]");
                walk_json(item, path, inspect, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key);
                if !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    out.push(Target::new(
                        Location::BodyField(format!("{path}#key")),
                        key,
                        inspect,
                    ));
                }
                walk_json(item, path, inspect, out);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
