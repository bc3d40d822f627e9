//! `validator`: checks a request's path, query and header parameters and its body (JSON Schema)
//! at the method-request stage, before any backend work (think API Gateway's request
//! validators and models).
//!
//! ```toml
//! [plugins.validate-book]
//! path = "target/plugins/validator.wasm"
//! [plugins.validate-book.config]
//! path    = { id = { type = "integer" } }                          # required unless `required = false`
//! query   = { dry_run = { type = "boolean", required = false } }
//! headers = { x-client-id = { pattern = "^[a-z0-9-]{3,32}$" } }
//!
//! [plugins.validate-book.config.body]
//! required = true                  # default true: an empty body is a 400
//! max_bytes = 65536                # default: the gateway's `max_body_bytes` only; above → 413
//! [plugins.validate-book.config.body.models."application/json"]
//! draft = "7"                      # optional: 4, 6, 7, 2019-09, 2020-12 (default: `$schema`, else 2020-12)
//! schema = { type = "object", required = ["title", "year"], additionalProperties = false, properties = { title = { type = "string", minLength = 1 }, year = { type = "integer", minimum = 0 } } }
//! [plugins.validate-book.config.body.models."text/plain"]   # accepted as is (no schema)
//! ```
//!
//! A model's `schema` is a TOML table or a string holding JSON text (handy to paste a schema
//! with `'''…'''`). Schemas and patterns are compiled once, when the plugin starts; an invalid
//! one (checked against its draft's meta-schema) fails the load with a message naming the key.
//! The Wasm sandbox has no file system or network, so `$ref`s must stay inside the schema
//! (`#/definitions/…`, `#/$defs/…`).
//!
//! # Answers
//!
//! Every failure answers in the gateway's error shape with an `errors` list. Each entry has a
//! `location`, a JSON pointer into the request seen as
//! `{"path": {…}, "query": {…}, "headers": {…}, "body": …}` (so `/query/limit`,
//! `/headers/x-client-id`, `/body/authors/0/name`), and a `message`:
//!
//! | failure                                                    | status | `type`                    |
//! |------------------------------------------------------------|--------|---------------------------|
//! | a parameter missing, of the wrong type or not matching     | 400    | `BAD_REQUEST_PARAMETERS`  |
//! | an empty body when required, malformed JSON, schema errors | 400    | `BAD_REQUEST_BODY`        |
//! | a content type without a model (or missing, with a body)   | 415    | `UNSUPPORTED_MEDIA_TYPE`  |
//! | a body over `body.max_bytes` (or the gateway's cap)        | 413    | `REQUEST_TOO_LARGE`       |
//!
//! ```json
//! {"message": "the request body is invalid", "type": "BAD_REQUEST_BODY", "requestId": "…",
//!  "errors": [{"location": "/body/year", "message": "\"1965\" is not of type \"integer\""}]}
//! ```
//!
//! Parameters are checked first; when they fail the body is not read. Every error is listed
//! (at most [`MAX_ERRORS`]; a last entry says how many more there were). A content type is
//! matched without its parameters (`; charset=utf-8`), exact type first, then `type/*`, then
//! `*/*`.

mod body;
mod config;
mod params;

use serde_json::json;
use wasmgate_plugin_sdk::errors::gateway::{BAD_REQUEST_BODY, REQUEST_TOO_LARGE};
use wasmgate_plugin_sdk::errors::plugins::{BAD_REQUEST_PARAMETERS, UNSUPPORTED_MEDIA_TYPE};
use wasmgate_plugin_sdk::errors::{ErrorBody, ErrorType};
use wasmgate_plugin_sdk::{
    Action, BodyAccess, Context, InitError, Plugin, Request, ResponseData, Stages,
};

use config::Rules;
pub use config::{BodySpec, Config, ModelSpec, ParamSpec, ParamType};

/// The most errors listed in one answer.
pub const MAX_ERRORS: usize = 100;

/// The `validator` plugin.
#[derive(Debug)]
pub struct RequestValidator {
    rules: Rules,
}

impl Plugin for RequestValidator {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(RequestValidator {
            rules: Rules::try_from(config)?,
        })
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST
    }

    fn body_access(&self) -> BodyAccess {
        if self.rules.body.is_some() {
            BodyAccess::REQUEST
        } else {
            BodyAccess::NONE
        }
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let errors = params::check(&self.rules.params, request);
        if !errors.is_empty() {
            return invalid(
                context,
                BAD_REQUEST_PARAMETERS,
                "the request parameters are invalid",
                errors,
            );
        }
        let Some(body) = &self.rules.body else {
            return Action::Continue;
        };
        match body::check(body, request) {
            Ok(()) => Action::Continue,
            Err(body::Rejection::Invalid(errors)) => invalid(
                context,
                BAD_REQUEST_BODY,
                "the request body is invalid",
                errors,
            ),
            Err(body::Rejection::TooLarge(cap)) => Action::error(
                context,
                REQUEST_TOO_LARGE,
                format!("the request body is larger than {cap} bytes"),
            ),
            Err(body::Rejection::UnsupportedMediaType(message)) => {
                Action::error(context, UNSUPPORTED_MEDIA_TYPE, message)
            }
        }
    }
}

wasmgate_plugin_sdk::export_plugin!(RequestValidator);

/// One validation error: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) location: String,
    pub(crate) message: String,
}

impl Violation {
    pub(crate) fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// A JSON pointer made of `segments`, each escaped (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    segments
        .into_iter()
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// A 400 in the gateway's error shape, with the `errors` list.
fn invalid(
    context: &Context<'_>,
    kind: ErrorType,
    message: &str,
    errors: Vec<Violation>,
) -> Action {
    let total = errors.len();
    let mut listed: Vec<serde_json::Value> = errors
        .into_iter()
        .take(MAX_ERRORS)
        .map(|error| json!({ "location": error.location, "message": error.message }))
        .collect();
    if total > MAX_ERRORS {
        listed.push(json!({
            "location": "",
            "message": format!("{} more errors not listed", total - MAX_ERRORS),
        }));
    }
    let request_id = context.request_id();
    let head = ErrorBody {
        message,
        error_type: kind.name,
        request_id: request_id.as_deref(),
    };
    let mut body = serde_json::to_value(head).unwrap_or_default();
    body["errors"] = listed.into();
    Action::Respond(ResponseData::new(kind.status).json(&body))
}
