//! The variables templates see, read once per stage call from the request, response and context.
//! Only the variables some template reads are built (each costs host calls and copies).

use std::collections::BTreeMap;

use minijinja::Value;
use minijinja::value::Serde;
use wasmgate_plugin_sdk::{Context, Request, Response};

use crate::MappingError;
use crate::config::Rules;

/// The request-side variables.
pub(crate) fn request(
    rules: &Rules,
    request: &Request<'_>,
    context: &Context<'_>,
    read_body: bool,
) -> Result<Value, MappingError> {
    let mut vars = common(rules, request, context);
    if rules.reads("headers") {
        vars.insert("headers", request_headers(request));
    }
    if read_body {
        let body = request
            .body()
            .map_err(|err| MappingError(format!("the request body: {err}")))?;
        insert_body(rules, &mut vars, &body);
    }
    Ok(Value::from(vars))
}

/// The response-side variables.
pub(crate) fn response(
    rules: &Rules,
    request: &Request<'_>,
    response: &Response<'_>,
    context: &Context<'_>,
    read_body: bool,
) -> Result<Value, MappingError> {
    let mut vars = common(rules, request, context);
    if rules.reads("request_headers") {
        vars.insert("request_headers", request_headers(request));
    }
    if rules.reads("status") {
        vars.insert("status", Value::from(response.status()));
    }
    if rules.reads("headers") {
        vars.insert("headers", first_values(response.headers()));
    }
    if read_body {
        let body = response
            .body()
            .map_err(|err| MappingError(format!("the response body: {err}")))?;
        insert_body(rules, &mut vars, &body);
    }
    Ok(Value::from(vars))
}

fn common(
    rules: &Rules,
    request: &Request<'_>,
    context: &Context<'_>,
) -> BTreeMap<&'static str, Value> {
    let mut vars = BTreeMap::new();
    if rules.reads("method") {
        vars.insert("method", Value::from(request.method()));
    }
    if rules.reads("request_path") {
        vars.insert("request_path", Value::from(request.path()));
    }
    if rules.reads("path") {
        let path: BTreeMap<String, String> = request.path_params().into_iter().collect();
        vars.insert("path", Value::from(path));
    }
    if rules.reads("query") {
        let mut query = BTreeMap::new();
        if let Some(raw) = request.query() {
            for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
                query
                    .entry(name.into_owned())
                    .or_insert_with(|| value.into_owned());
            }
        }
        vars.insert("query", Value::from(query));
    }
    if rules.reads("context") {
        let context: BTreeMap<String, String> = context
            .keys()
            .into_iter()
            .filter_map(|key| {
                let value = context.get(&key)?;
                Some((key, value))
            })
            .collect();
        vars.insert("context", Value::from(context));
    }
    if rules.reads("variables") {
        vars.insert("variables", rules.variables.clone());
    }
    vars
}

/// The request's headers, the first value of each (one host call).
fn request_headers(request: &Request<'_>) -> Value {
    first_values(request.headers())
}

/// `name → first value` (as text) of a header list.
fn first_values(headers: Vec<(String, Vec<u8>)>) -> Value {
    let mut first = BTreeMap::new();
    for (name, value) in headers {
        first
            .entry(name)
            .or_insert_with(|| String::from_utf8_lossy(&value).into_owned());
    }
    Value::from(first)
}

/// `body` (JSON, or none) and `raw_body` (text).
fn insert_body(rules: &Rules, vars: &mut BTreeMap<&'static str, Value>, body: &[u8]) {
    if rules.reads("body") {
        let json = serde_json::from_slice::<serde_json::Value>(body).ok();
        let parsed = json.map_or(Value::from(()), |json| Value::from(Serde(json)));
        vars.insert("body", parsed);
    }
    if rules.reads("raw_body") {
        let text = String::from_utf8_lossy(body).into_owned();
        vars.insert("raw_body", Value::from(text));
    }
}
