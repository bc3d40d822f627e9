//! Body checks: size, content type, JSON well-formedness and the model's schema.

use wasmgate_plugin_sdk::{BodyError, Request};

use crate::config::{Body, Model};
use crate::{Violation, pointer};

/// Why a body is refused.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// 400: the body is empty when required, malformed or off its schema.
    Invalid(Vec<Violation>),
    /// 413: larger than this many bytes.
    TooLarge(u64),
    /// 415: no model for the content type (the message says which are accepted).
    UnsupportedMediaType(String),
}

/// Checks the request body against `rules`.
pub(crate) fn check(rules: &Body, request: &Request<'_>) -> Result<(), Rejection> {
    let body = match request.body() {
        Ok(body) => body,
        Err(BodyError::TooLarge(cap)) => return Err(Rejection::TooLarge(cap)),
        Err(BodyError::Unavailable(reason)) => {
            return Err(invalid(format!("the body could not be read: {reason}")));
        }
        // `body_access` declares the body whenever there are body rules; the gateway cannot
        // refuse it. Fail closed all the same.
        Err(BodyError::NotDeclared) => return Err(invalid("the body could not be read")),
    };
    if let Some(cap) = rules.max_bytes
        && body.len() as u64 > cap
    {
        return Err(Rejection::TooLarge(cap));
    }
    if body.is_empty() {
        return if rules.required {
            Err(invalid("a request body is required"))
        } else {
            Ok(())
        };
    }
    let model = model_for(rules, request.header_str("content-type").as_deref())?;
    if !model.json {
        return Ok(());
    }
    let instance: serde_json::Value =
        serde_json::from_slice(&body).map_err(|err| invalid(format!("malformed JSON: {err}")))?;
    let Some(schema) = &model.schema else {
        return Ok(());
    };
    let errors: Vec<Violation> = schema
        .iter_errors(&instance)
        .map(|error| {
            let path = error.instance_path().to_string();
            let location = format!("{}{path}", pointer(["body"]));
            Violation::new(location, error.to_string())
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Rejection::Invalid(errors))
    }
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::Invalid(vec![Violation::new(pointer(["body"]), message)])
}

/// The model of a content type: exact media type, then `type/*`, then `*/*`.
fn model_for<'a>(rules: &'a Body, content_type: Option<&str>) -> Result<&'a Model, Rejection> {
    let accepted = || {
        let types: Vec<&str> = rules.models.keys().map(String::as_str).collect();
        types.join(", ")
    };
    let Some(content_type) = content_type else {
        return Err(Rejection::UnsupportedMediaType(format!(
            "a request body needs a content-type header; accepted: {}",
            accepted()
        )));
    };
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let range = media_type
        .split_once('/')
        .map(|(kind, _)| format!("{kind}/*"));
    [Some(media_type.clone()), range, Some("*/*".to_owned())]
        .into_iter()
        .flatten()
        .find_map(|key| rules.models.get(&key))
        .ok_or_else(|| {
            Rejection::UnsupportedMediaType(format!(
                "content type `{media_type}` is not accepted; accepted: {}",
                accepted()
            ))
        })
}
