//! The variables templates see, read once per stage call from the request, response and context,
//! before any edit. Only the variables some template reads are built (each costs host calls and
//! copies); a side whose templates are all planned reads only what the plans print.

use std::collections::BTreeMap;

use minijinja::Value;
use minijinja::value::Serde;
use wasmgate_plugin_sdk::{Context, Request, Response};

use crate::MappingError;
use crate::config::Rules;
use crate::plan::{SidePlans, Sources, first_query_values};

/// What the templates of one stage call render from.
pub(crate) enum Vars<'a> {
    /// The engine's variables: the side has a template without a plan.
    Engine(Value),
    /// The snapshot the side's plans read.
    Planned {
        plans: &'a SidePlans,
        sources: Sources<'a>,
    },
}

impl Vars<'_> {
    /// The planned rendering of template `name`, when it has a plan and the plan could render.
    pub(crate) fn planned(&self, name: &str) -> Option<String> {
        match self {
            Vars::Engine(_) => None,
            Vars::Planned { plans, sources } => plans.plans.get(name)?.render(sources),
        }
    }

    /// The variables for the engine (built from the snapshot for a planned side).
    pub(crate) fn engine_value(&self, variables: &Value) -> Value {
        match self {
            Vars::Engine(value) => value.clone(),
            Vars::Planned { sources, .. } => sources.to_value(variables),
        }
    }
}

/// The request side's variables: the plans' snapshot, or the engine's variables.
pub(crate) fn for_request<'a>(
    rules: &'a Rules,
    request: &Request<'_>,
    context: &Context<'_>,
    read_body: bool,
) -> Result<Vars<'a>, MappingError> {
    match &rules.request_plans {
        Some(plans) => Ok(Vars::Planned {
            plans,
            sources: Sources::request(
                &plans.needs,
                &rules.variables_json,
                request,
                context,
                read_body,
            )?,
        }),
        None => self::request(rules, request, context, read_body).map(Vars::Engine),
    }
}

/// The response side's variables: the plans' snapshot, or the engine's variables.
pub(crate) fn for_response<'a>(
    rules: &'a Rules,
    request: &Request<'_>,
    response: &Response<'_>,
    context: &Context<'_>,
    read_body: bool,
) -> Result<Vars<'a>, MappingError> {
    match &rules.response_plans {
        Some(plans) => Ok(Vars::Planned {
            plans,
            sources: Sources::response(
                &plans.needs,
                &rules.variables_json,
                request,
                response,
                context,
                read_body,
            )?,
        }),
        None => self::response(rules, request, response, context, read_body).map(Vars::Engine),
    }
}

/// The request-side variables.
fn request(
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
fn response(
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
        let query = first_query_values(request.query().as_deref());
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
