//! The plugin's config: the serde surface ([`Config`]) and the validated form the stage uses
//! ([`Rules`]), which never derives `Deserialize`. Schemas and patterns are compiled here, once
//! per instance, never per request.

use std::collections::BTreeMap;

use jsonschema::{Draft, Validator};
use regex::Regex;
use serde::Deserialize;
use wasmgate_plugin_sdk::{InitError, documents, header};

/// The `config` table of a `validator` plugin. Every section is optional; see the crate docs
/// for a full example.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path parameters of the route template: `path = { id = { type = "integer" } }`
    #[serde(default)]
    path: BTreeMap<String, ParamSpec>,
    /// Query parameters: `query = { limit = { type = "integer", required = false } }`
    #[serde(default)]
    query: BTreeMap<String, ParamSpec>,
    /// Request headers (case-insensitive): `headers = { x-client = { pattern = "[a-z]+" } }`
    #[serde(default)]
    headers: BTreeMap<String, ParamSpec>,
    /// The request body: `[plugins.NAME.config.body]`, absent = the body is not checked.
    body: Option<BodySpec>,
}

/// One parameter rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// `required = false` to check the value only when present (default `true`).
    required: Option<bool>,
    /// `type = "integer"`: `string` (default), `integer`, `number` or `boolean`.
    #[serde(rename = "type")]
    kind: Option<ParamType>,
    /// `pattern = "^[a-z]{2}$"`: a regular expression (Rust `regex` syntax) the value must match;
    /// unanchored like JSON Schema's `pattern`, so write `^…$` to match the whole value.
    pattern: Option<String>,
}

/// The type a parameter value must parse as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text (the default).
    String,
    /// A decimal integer that fits in 64 bits, e.g. `-42`.
    Integer,
    /// A finite decimal number, e.g. `4.5` or `1e3`.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// The body section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodySpec {
    /// `required = false` to accept an empty body (default `true`).
    required: Option<bool>,
    /// `max_bytes = 65536`: larger bodies are refused with 413 (default: the gateway's
    /// `max_body_bytes` only).
    max_bytes: Option<u64>,
    /// Models by media type (`application/json`, `application/*`, `*/*`), each with an optional
    /// JSON Schema: `models."application/json" = { schema = { type = "object" } }`. A content type
    /// with no model is refused with 415.
    #[serde(default)]
    models: BTreeMap<String, ModelSpec>,
}

/// One model: the body of one media type.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The JSON Schema, as a TOML table or as a string holding JSON text
    /// (`schema = '''{"type": "object"}'''`). Absent: any well-formed JSON (for a JSON media
    /// type) or any body (for others).
    schema: Option<serde_json::Value>,
    /// `schema_document = "order"`: the JSON Schema is the document of that name attached to
    /// the plugin in the gateway config (`[plugins.<name>.documents] order = { file =
    /// "schemas/order.json" }`), read once at init; the gateway reloads the plugin when the file
    /// changes. Instead of `schema`.
    schema_document: Option<String>,
    /// `draft = "7"`: `"4"`, `"6"`, `"7"`, `"2019-09"` or `"2020-12"`. Default: the schema's
    /// `$schema`, else 2020-12.
    draft: Option<String>,
}

/// Validated rules.
#[derive(Debug)]
pub(crate) struct Rules {
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Body>,
}

/// Where a parameter is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    /// The first segment of the error pointer: `/path/id`, `/query/limit`, `/headers/x-a`.
    pub(crate) fn pointer_segment(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "headers",
        }
    }
}

/// A validated parameter rule.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) location: Location,
    pub(crate) name: String,
    pub(crate) required: bool,
    pub(crate) kind: ParamType,
    pub(crate) pattern: Option<Regex>,
}

/// The validated body rule.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) required: bool,
    pub(crate) max_bytes: Option<u64>,
    /// Models by lower-case media type, exact types first when looked up.
    pub(crate) models: BTreeMap<String, Model>,
}

/// A validated model.
#[derive(Debug)]
pub(crate) struct Model {
    /// Whether the media type is JSON (`application/json` or a `+json` suffix).
    pub(crate) json: bool,
    pub(crate) schema: Option<Validator>,
}

impl TryFrom<Config> for Rules {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Self, InitError> {
        let mut params = Vec::new();
        let sections = [
            (Location::Path, "path", config.path),
            (Location::Query, "query", config.query),
            (Location::Header, "headers", config.headers),
        ];
        for (location, section, specs) in sections {
            for (name, spec) in specs {
                params.push(param(location, section, name, spec)?);
            }
        }
        let body = config.body.map(body).transpose()?;
        Ok(Rules { params, body })
    }
}

fn param(
    location: Location,
    section: &str,
    name: String,
    spec: ParamSpec,
) -> Result<Param, InitError> {
    let key = format!("{section}.{name}");
    if name.is_empty() {
        return Err(InitError::invalid_config(section, "empty parameter name"));
    }
    let name = if location == Location::Header {
        if !header::is_valid_name(&name) {
            return Err(InitError::invalid_config(&key, "not a valid header name"));
        }
        name.to_ascii_lowercase()
    } else {
        name
    };
    let pattern = spec
        .pattern
        .map(|pattern| {
            Regex::new(&pattern).map_err(|err| {
                InitError::invalid_config(
                    &format!("{key}.pattern"),
                    format!("invalid regex: {err}"),
                )
            })
        })
        .transpose()?;
    Ok(Param {
        location,
        name,
        required: spec.required.unwrap_or(true),
        kind: spec.kind.unwrap_or(ParamType::String),
        pattern,
    })
}

fn body(spec: BodySpec) -> Result<Body, InitError> {
    if spec.models.is_empty() {
        return Err(InitError::invalid_config(
            "body.models",
            "no model: add at least one, e.g. `models.\"application/json\" = {}`",
        ));
    }
    if spec.max_bytes == Some(0) {
        return Err(InitError::invalid_config(
            "body.max_bytes",
            "must be at least 1 (remove it to use the gateway's cap)",
        ));
    }
    let mut models = BTreeMap::new();
    for (media_type, model_spec) in spec.models {
        let key = format!("body.models.{media_type}");
        let normalised = media_type.trim().to_ascii_lowercase();
        if !is_media_range(&normalised) {
            return Err(InitError::invalid_config(
                &key,
                "not a media type: write `type/subtype`, `type/*` or `*/*` without parameters",
            ));
        }
        let model = model(&key, &normalised, model_spec)?;
        if models.insert(normalised, model).is_some() {
            return Err(InitError::invalid_config(
                &key,
                "the same media type is listed twice (media types are case-insensitive)",
            ));
        }
    }
    Ok(Body {
        required: spec.required.unwrap_or(true),
        max_bytes: spec.max_bytes,
        models,
    })
}

fn model(key: &str, media_type: &str, spec: ModelSpec) -> Result<Model, InitError> {
    let json = is_json(media_type);
    let schema = match (spec.schema, spec.schema_document) {
        (Some(_), Some(_)) => {
            return Err(InitError::invalid_config(
                &format!("{key}.schema_document"),
                "give either `schema` or `schema_document`, not both",
            ));
        }
        (schema, None) => schema,
        (None, Some(name)) => Some(schema_from_document(key, &name)?),
    };
    let schema = match schema {
        None => {
            if spec.draft.is_some() {
                return Err(InitError::invalid_config(
                    &format!("{key}.draft"),
                    "a draft without a schema",
                ));
            }
            None
        }
        Some(_) if !json => {
            return Err(InitError::invalid_config(
                &format!("{key}.schema"),
                "a JSON Schema needs a JSON media type (`application/json` or `…+json`)",
            ));
        }
        Some(schema) => Some(compile(key, schema, spec.draft.as_deref())?),
    };
    Ok(Model { json, schema })
}

/// The JSON text of the document `name` attached to the plugin.
fn schema_from_document(key: &str, name: &str) -> Result<serde_json::Value, InitError> {
    let key = format!("{key}.schema_document");
    let document =
        documents::get(name).map_err(|err| InitError::invalid_config(&key, err.to_string()))?;
    serde_json::from_slice(&document.content).map_err(|err| {
        InitError::invalid_config(&key, format!("document `{name}` is not JSON: {err}"))
    })
}

/// Compiles a schema (a table, or a string holding JSON) with the meta-schema check on.
fn compile(
    key: &str,
    schema: serde_json::Value,
    draft: Option<&str>,
) -> Result<Validator, InitError> {
    let schema_key = format!("{key}.schema");
    let schema = match schema {
        serde_json::Value::String(text) => serde_json::from_str(&text).map_err(|err| {
            InitError::invalid_config(&schema_key, format!("the string is not JSON: {err}"))
        })?,
        other => other,
    };
    let mut options = jsonschema::options();
    if let Some(name) = draft {
        let draft = match name {
            "4" => Draft::Draft4,
            "6" => Draft::Draft6,
            "7" => Draft::Draft7,
            "2019-09" => Draft::Draft201909,
            "2020-12" => Draft::Draft202012,
            other => {
                return Err(InitError::invalid_config(
                    &format!("{key}.draft"),
                    format!("unknown draft `{other}`, expected one of: 4, 6, 7, 2019-09, 2020-12"),
                ));
            }
        };
        options = options.with_draft(draft);
    }
    options.build(&schema).map_err(|err| {
        let at = err.instance_path().to_string();
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" (at `{at}`)")
        };
        InitError::invalid_config(&schema_key, format!("invalid JSON Schema{at}: {err}"))
    })
}

/// `type/subtype`, `type/*` or `*/*`, each part an RFC 9110 token.
fn is_media_range(media_type: &str) -> bool {
    let Some((kind, subtype)) = media_type.split_once('/') else {
        return false;
    };
    let token = |part: &str| header::is_valid_name(part);
    match (kind, subtype) {
        ("*", "*") => true,
        (_, "*") => token(kind),
        ("*", _) => false,
        _ => token(kind) && token(subtype),
    }
}

/// Whether a media type carries JSON: `application/json` or a `+json` structured suffix.
pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}
