//! The variables templates see, read once per stage call from the request, response and context.

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
    vars.insert("headers", request_headers(request));
    if read_body {
        let body = request
            .body()
            .map_err(|err| MappingError(format!("the request body: {err}")))?;
        insert_body(&mut vars, &body);
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
    vars.insert("request_headers", request_headers(request));
    vars.insert("status", Value::from(response.status()));
    let headers: BTreeMap<String, String> = response
        .header_names()
        .into_iter()
        .filter_map(|name| {
            let value = response.header(&name)?;
            Some((name, String::from_utf8_lossy(&value).into_owned()))
        })
        .collect();
    vars.insert("headers", Value::from(headers));
    if read_body {
        let body = response
            .body()
            .map_err(|err| MappingError(format!("the response body: {err}")))?;
        insert_body(&mut vars, &body);
    }
    Ok(Value::from(vars))
}

fn common(
    rules: &Rules,
    request: &Request<'_>,
    context: &Context<'_>,
) -> BTreeMap<&'static str, Value> {
    let path: BTreeMap<String, String> = request.path_params().into_iter().collect();
    let mut query = BTreeMap::new();
    if let Some(raw) = request.query() {
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            query
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    let context: BTreeMap<String, String> = context
        .keys()
        .into_iter()
        .filter_map(|key| {
            let value = context.get(&key)?;
            Some((key, value))
        })
        .collect();
    BTreeMap::from([
        ("method", Value::from(request.method())),
        ("request_path", Value::from(request.path())),
        ("path", Value::from(path)),
        ("query", Value::from(query)),
        ("context", Value::from(context)),
        ("variables", rules.variables.clone()),
    ])
}

fn request_headers(request: &Request<'_>) -> Value {
    let headers: BTreeMap<String, String> = request
        .header_names()
        .into_iter()
        .filter_map(|name| {
            let value = request.header(&name)?;
            Some((name, String::from_utf8_lossy(&value).into_owned()))
        })
        .collect();
    Value::from(headers)
}

/// `body` (JSON, or none) and `raw_body` (text).
fn insert_body(vars: &mut BTreeMap<&'static str, Value>, body: &[u8]) {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let parsed = json.map_or(Value::from(()), |json| Value::from(Serde(json)));
    vars.insert("body", parsed);
    vars.insert(
        "raw_body",
        Value::from(String::from_utf8_lossy(body).into_owned()),
    );
}
