//! `headers`: the built-in header and context rewrite plugin (think API Gateway's integration
//! request/response header mappings).
//!
//! ```toml
//! [plugins.stamp]
//! path = "target/plugins/headers.wasm"
//! [plugins.stamp.config]
//! request  = { set = { "x-from-gateway" = "yes" }, append = { "x-tag" = "a" }, remove = ["x-internal"] }
//! response = { set = { "x-served-by" = "wasmgate" }, remove = ["server"] }
//! context  = { "tenant" = "acme" }
//! forward_context = { "x-tenant" = "tenant" }
//! expose_context  = { "x-seen-tenant" = "tenant" }
//! ```
//!
//! | section           | stage                | effect                                                    |
//! |-------------------|----------------------|-----------------------------------------------------------|
//! | `context`         | method request       | sets context values (not `gateway.` keys)                 |
//! | `request`         | integration request  | removes, then sets, then appends request headers          |
//! | `forward_context` | integration request  | request header ← context value (skipped when absent)      |
//! | `response`        | method response      | removes, then sets, then appends response headers         |
//! | `expose_context`  | method response      | response header ← context value (skipped when absent)     |
//!
//! Every section is optional; the plugin is called only at the stages whose sections are not
//! empty. Header names are validated (and lower-cased) at load. A context value that is not a
//! valid header value is skipped with a warning in the gateway log.

mod config;

use wasmgate_plugin_sdk::{
    Action, Context, EditError, InitError, Plugin, Request, Response, Stages, header, log,
};

pub use config::{Config, HeaderEdits};
use config::{Edits, Rules};

/// The `headers` plugin.
#[derive(Debug)]
pub struct Headers {
    rules: Rules,
}

impl Plugin for Headers {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(Headers {
            rules: Rules::try_from(config)?,
        })
    }

    fn stages(&self) -> Stages {
        self.rules.stages()
    }

    fn on_method_request(&self, _: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        for (key, value) in &self.rules.context {
            if let Err(err) = context.set(key, value) {
                refused("context key", key, &err);
            }
        }
        Action::Continue
    }

    fn on_integration_request(
        &self,
        request: &mut Request<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        apply(&self.rules.request, |edit| edit.apply_to_request(request));
        for (name, key) in &self.rules.forward_context {
            if let Some(value) = context_value(context, key) {
                Edit::Set(name, &value).apply_to_request(request);
            }
        }
        Action::Continue
    }

    fn on_method_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        apply(&self.rules.response, |edit| {
            edit.apply_to_response(response)
        });
        for (name, key) in &self.rules.expose_context {
            if let Some(value) = context_value(context, key) {
                Edit::Set(name, &value).apply_to_response(response);
            }
        }
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(Headers);

/// One header edit.
enum Edit<'a> {
    Remove(&'a str),
    Set(&'a str, &'a str),
    Append(&'a str, &'a str),
}

impl Edit<'_> {
    fn apply_to_request(&self, request: &mut Request<'_>) {
        let result = match *self {
            Edit::Remove(name) => request.remove_header(name),
            Edit::Set(name, value) => request.set_header(name, value),
            Edit::Append(name, value) => request.append_header(name, value),
        };
        self.check(result);
    }

    fn apply_to_response(&self, response: &mut Response<'_>) {
        let result = match *self {
            Edit::Remove(name) => response.remove_header(name),
            Edit::Set(name, value) => response.set_header(name, value),
            Edit::Append(name, value) => response.append_header(name, value),
        };
        self.check(result);
    }

    fn check(&self, result: Result<(), EditError>) {
        if let Err(err) = result {
            let (Edit::Remove(name) | Edit::Set(name, _) | Edit::Append(name, _)) = *self;
            refused("header", name, &err);
        }
    }
}

/// Applies `edits` in order: remove, set, append.
fn apply(edits: &Edits, mut edit: impl FnMut(Edit<'_>)) {
    edits
        .remove
        .iter()
        .for_each(|name| edit(Edit::Remove(name)));
    edits
        .set
        .iter()
        .for_each(|(name, value)| edit(Edit::Set(name, value)));
    edits
        .append
        .iter()
        .for_each(|(name, value)| edit(Edit::Append(name, value)));
}

/// The context value under `key`, if present and usable as a header value.
fn context_value(context: &Context<'_>, key: &str) -> Option<String> {
    let value = context.get(key)?;
    if header::is_valid_value(value.as_bytes()) {
        Some(value)
    } else {
        log::warn(
            "headers: context value is not a valid header value; skipped",
            &[("context-key", key)],
        );
        None
    }
}

/// Logs an edit the gateway refused (validation at init makes this unexpected).
fn refused(what: &str, name: &str, err: &EditError) {
    log::warn(
        "headers: edit refused",
        &[(what, name), ("error", &err.to_string())],
    );
}
