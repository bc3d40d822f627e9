//! The plugin's config: the serde surface ([`Config`]) and the validated form the stages use
//! ([`Rules`]), which never derives `Deserialize`.

use std::collections::BTreeMap;

use serde::Deserialize;
use wasmgate_plugin_sdk::{InitError, Stages, header};

/// The `config` table of a `headers` plugin. Every section is optional.
///
/// ```toml
/// [plugins.stamp.config]
/// request  = { set = { "x-from-gateway" = "yes" }, append = { "x-tag" = "a" }, remove = ["x-internal"] }
/// response = { set = { "x-served-by" = "wasmgate" }, remove = ["server"] }
/// context  = { "tenant" = "acme" }
/// forward_context = { "x-tenant" = "tenant" }
/// expose_context  = { "x-seen-tenant" = "tenant" }
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Edits of the request the backend receives, at the integration-request stage:
    /// `request = { set = { "x-from-gateway" = "yes" }, remove = ["x-internal"] }`
    #[serde(default)]
    request: HeaderEdits,
    /// Edits of the response the client receives, at the method-response stage:
    /// `response = { set = { "x-served-by" = "wasmgate" }, remove = ["server"] }`
    #[serde(default)]
    response: HeaderEdits,
    /// Context values set at the method-request stage, for later plugins, the backend mapping
    /// and the access log: `context = { "tenant" = "acme" }`
    #[serde(default)]
    context: BTreeMap<String, String>,
    /// Request headers set from context values at the integration-request stage (header =
    /// context key; skipped when the key is absent): `forward_context = { "x-tenant" = "tenant" }`
    #[serde(default)]
    forward_context: BTreeMap<String, String>,
    /// Response headers set from context values at the method-response stage (header = context
    /// key; skipped when the key is absent): `expose_context = { "x-seen-tenant" = "tenant" }`
    #[serde(default)]
    expose_context: BTreeMap<String, String>,
}

/// Header edits of one message, applied in this order: remove, set, append.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderEdits {
    /// Headers whose values are all replaced by one value: `set = { "x-from-gateway" = "yes" }`
    #[serde(default)]
    set: BTreeMap<String, String>,
    /// Values added to headers, keeping the existing ones: `append = { "x-tag" = "a" }`
    #[serde(default)]
    append: BTreeMap<String, String>,
    /// Headers removed with all their values: `remove = ["x-internal"]`
    #[serde(default)]
    remove: Vec<String>,
}

/// Validated header edits: lower-case, valid names and values.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    pub(crate) remove: Vec<String>,
    pub(crate) set: Vec<(String, String)>,
    pub(crate) append: Vec<(String, String)>,
}

impl Edits {
    fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.set.is_empty() && self.append.is_empty()
    }
}

/// The validated config.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub(crate) request: Edits,
    pub(crate) response: Edits,
    pub(crate) context: Vec<(String, String)>,
    pub(crate) forward_context: Vec<(String, String)>,
    pub(crate) expose_context: Vec<(String, String)>,
}

impl Rules {
    /// The stages whose sections are not empty.
    pub(crate) fn stages(&self) -> Stages {
        let mut stages = Stages::NONE;
        if !self.context.is_empty() {
            stages |= Stages::METHOD_REQUEST;
        }
        if !self.request.is_empty() || !self.forward_context.is_empty() {
            stages |= Stages::INTEGRATION_REQUEST;
        }
        if !self.response.is_empty() || !self.expose_context.is_empty() {
            stages |= Stages::METHOD_RESPONSE;
        }
        stages
    }
}

impl TryFrom<Config> for Rules {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Rules, InitError> {
        Ok(Rules {
            request: edits(config.request, "request")?,
            response: edits(config.response, "response")?,
            context: context_values(config.context)?,
            forward_context: header_map(config.forward_context, "forward_context")?,
            expose_context: header_map(config.expose_context, "expose_context")?,
        })
    }
}

/// The lower-cased header name, or an error naming the config key.
fn header_name(name: &str, key_path: &str) -> Result<String, InitError> {
    if !header::is_valid_name(name) {
        return Err(InitError::invalid_config(
            key_path,
            format!(
                "`{name}` is not a valid header name (use letters, digits and \
                 !#$%&'*+-.^_`|~, e.g. `x-request-source`)"
            ),
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Validated `(name, value)` pairs of a `set` or `append` table, without case-duplicates.
fn header_values(
    values: BTreeMap<String, String>,
    key_path: &str,
) -> Result<Vec<(String, String)>, InitError> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(values.len());
    for (name, value) in values {
        let lower = header_name(&name, key_path)?;
        if !header::is_valid_value(value.as_bytes()) {
            let path = format!("{key_path}.{name}");
            return Err(InitError::invalid_config(
                &path,
                "control characters are not allowed",
            ));
        }
        if pairs.iter().any(|(existing, _)| *existing == lower) {
            let message = format!("`{lower}` is listed twice (names are case-insensitive)");
            return Err(InitError::invalid_config(key_path, message));
        }
        pairs.push((lower, value));
    }
    Ok(pairs)
}

fn edits(edits: HeaderEdits, section: &str) -> Result<Edits, InitError> {
    let set = header_values(edits.set, &format!("{section}.set"))?;
    let append = header_values(edits.append, &format!("{section}.append"))?;
    let mut remove = Vec::with_capacity(edits.remove.len());
    for name in &edits.remove {
        let path = format!("{section}.remove");
        let name = header_name(name, &path)?;
        if set.iter().chain(&append).any(|(edited, _)| *edited == name) {
            let message = format!("`{name}` is also set or appended in `{section}`: keep one");
            return Err(InitError::invalid_config(&path, message));
        }
        remove.push(name);
    }
    Ok(Edits {
        remove,
        set,
        append,
    })
}

fn context_values(values: BTreeMap<String, String>) -> Result<Vec<(String, String)>, InitError> {
    for key in values.keys() {
        if key.is_empty() || key.starts_with(wasmgate_plugin_sdk::context::GATEWAY_PREFIX) {
            let message = format!(
                "`{key}` cannot be set: keys under `gateway.` are the gateway's and the key \
                 must not be empty (prefix yours, e.g. `stamp.{key}`)"
            );
            return Err(InitError::invalid_config("context", message));
        }
    }
    Ok(values.into_iter().collect())
}

/// Validated `(header name, context key)` pairs.
fn header_map(
    map: BTreeMap<String, String>,
    key_path: &str,
) -> Result<Vec<(String, String)>, InitError> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (name, key) in map {
        let name = header_name(&name, key_path)?;
        if pairs.iter().any(|(existing, _)| *existing == name) {
            let message = format!("`{name}` is listed twice (names are case-insensitive)");
            return Err(InitError::invalid_config(key_path, message));
        }
        pairs.push((name, key));
    }
    Ok(pairs)
}
