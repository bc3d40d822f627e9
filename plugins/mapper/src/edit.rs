//! Applying the mapping: rendering templates and editing the request or the response.

use wasmgate_plugin_sdk::{EditError, Request, Response};

use crate::MappingError;
use crate::config::{Edits, Rule, Rules};
use crate::vars::Vars;

/// Maps the request, in the documented order.
pub(crate) fn request(
    rules: &Rules,
    request: &mut Request<'_>,
    vars: &Vars<'_>,
) -> Result<(), MappingError> {
    if let Some(method) = &rules.method {
        request.set_method(method).map_err(refused("method"))?;
    }
    if let Some(template) = &rules.path {
        let path = render(rules, template, vars)?;
        request.set_path(&path).map_err(refused("path"))?;
    }
    if !rules.query.is_empty() {
        let query = edit_query(rules, request.query().as_deref(), vars)?;
        request
            .set_query(query.as_deref())
            .map_err(refused("query"))?;
    }
    let headers = &rules.headers;
    for name in &headers.remove {
        request.remove_header(name).map_err(refused(name))?;
    }
    for (from, to) in &headers.rename {
        let values = request.header_values(from);
        if values.is_empty() {
            continue;
        }
        request.remove_header(from).map_err(refused(from))?;
        request.remove_header(to).map_err(refused(to))?;
        for value in values {
            request.append_header(to, value).map_err(refused(to))?;
        }
    }
    for (name, template) in &headers.set {
        let value = render(rules, template, vars)?;
        request.set_header(name, value).map_err(refused(name))?;
    }
    if let Some(template) = &rules.body {
        let body = render_json(rules, template, vars)?;
        request.set_body(body).map_err(refused("body"))?;
        request
            .set_header("content-type", "application/json")
            .map_err(refused("content-type"))?;
    }
    Ok(())
}

/// Maps the response: the rule (body, then status), then the header edits.
pub(crate) fn response(
    rules: &Rules,
    rule: Option<&Rule>,
    response: &mut Response<'_>,
    vars: &Vars<'_>,
) -> Result<(), MappingError> {
    if let Some(rule) = rule {
        if let Some(template) = &rule.body {
            let body = render_json(rules, template, vars)?;
            response.set_body(body).map_err(refused("body"))?;
            response
                .set_header("content-type", "application/json")
                .map_err(refused("content-type"))?;
        }
        if let Some(status) = rule.status {
            response.set_status(status).map_err(refused("status"))?;
        }
    }
    let headers = &rules.response_headers;
    for name in &headers.remove {
        response.remove_header(name).map_err(refused(name))?;
    }
    for (from, to) in &headers.rename {
        let values = response.header_values(from);
        if values.is_empty() {
            continue;
        }
        response.remove_header(from).map_err(refused(from))?;
        response.remove_header(to).map_err(refused(to))?;
        for value in values {
            response.append_header(to, value).map_err(refused(to))?;
        }
    }
    for (name, template) in &headers.set {
        let value = render(rules, template, vars)?;
        response.set_header(name, value).map_err(refused(name))?;
    }
    Ok(())
}

/// The new raw query: remove, rename, then set; `None` when nothing is left.
fn edit_query(
    rules: &Rules,
    raw: Option<&str>,
    vars: &Vars<'_>,
) -> Result<Option<String>, MappingError> {
    let edits: &Edits = &rules.query;
    let mut pairs: Vec<(String, String)> = raw
        .map(|raw| {
            form_urlencoded::parse(raw.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    pairs.retain(|(name, _)| !edits.remove.contains(name));
    for (from, to) in &edits.rename {
        if pairs.iter().any(|(name, _)| name == from) {
            pairs.retain(|(name, _)| name != to);
            for (name, _) in pairs.iter_mut().filter(|(name, _)| name == from) {
                name.clone_from(to);
            }
        }
    }
    for (target, template) in &edits.set {
        let value = render(rules, template, vars)?;
        pairs.retain(|(name, _)| name != target);
        pairs.push((target.clone(), value));
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    ))
}

fn render(rules: &Rules, name: &str, vars: &Vars<'_>) -> Result<String, MappingError> {
    match vars.planned(name) {
        Some(text) => Ok(text),
        None => render_with_engine(rules, name, vars),
    }
}

/// Renders a body template and checks it is JSON (sent as rendered, keys in template order). A
/// planned template was checked at load.
fn render_json(rules: &Rules, name: &str, vars: &Vars<'_>) -> Result<String, MappingError> {
    if let Some(text) = vars.planned(name) {
        return Ok(text);
    }
    let text = render_with_engine(rules, name, vars)?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|err| {
        MappingError(format!(
            "template `{name}` rendered invalid JSON ({err}): {text}"
        ))
    })?;
    Ok(text.trim().to_owned())
}

fn render_with_engine(rules: &Rules, name: &str, vars: &Vars<'_>) -> Result<String, MappingError> {
    rules
        .env
        .get_template(name)
        .and_then(|template| template.render(vars.engine_value(&rules.variables)))
        .map_err(|err| MappingError(format!("template `{name}`: {err}")))
}

/// Maps a refused edit to a mapping error naming what was edited.
fn refused(what: &str) -> impl Fn(EditError) -> MappingError + '_ {
    move |err| MappingError(format!("the gateway refused the edit of `{what}`: {err}"))
}
