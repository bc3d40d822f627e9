//! The plugin's config: the serde surface ([`Config`]) and the validated [`Rules`] (templates
//! compiled into one minijinja environment), which never derive `Deserialize`.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use regex::Regex;
use serde::Deserialize;
use wasmgate_plugin_sdk::{InitError, header};

use crate::plan::{Side, SidePlans};

/// Instructions one template render may execute (loops included) before it fails.
const FUEL: u64 = 1_000_000;

/// The `config` table of a `mapper` plugin; see the crate docs for a full example.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Stage variables, as `variables.NAME` in templates: `variables = { table = "books" }`
    #[serde(default)]
    variables: serde_json::Map<String, serde_json::Value>,
    /// The integration request: `[plugins.NAME.config.request]`.
    #[serde(default)]
    request: RequestSpec,
    /// The integration response: `[plugins.NAME.config.response]`.
    #[serde(default)]
    response: ResponseSpec,
}

/// The request mapping. Every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `method = "POST"`: the method the backend sees.
    method: Option<String>,
    /// `path = "/tables/{{ variables.table }}/items/{{ path.id | urlencode }}"`: a template.
    path: Option<String>,
    /// Query parameter edits: `query = { set = { limit = "{{ query.n }}" }, rename = { q = "search" }, remove = ["debug"] }`
    #[serde(default)]
    query: EditsSpec,
    /// Header edits: `headers = { set = { x-table = "{{ variables.table }}" }, remove = ["cookie"] }`
    #[serde(default)]
    headers: EditsSpec,
    /// `body = '''{"TableName": {{ variables.table }}}'''`: a JSON template (see the crate docs).
    body: Option<String>,
}

/// Edits of a name/value list: remove, then rename, then set (values are templates).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditsSpec {
    /// `set = { name = "template" }`: replaces every value of `name` with the rendered one.
    #[serde(default)]
    set: BTreeMap<String, String>,
    /// `rename = { old = "new" }`: moves the values of `old` to `new` (replacing `new`'s).
    #[serde(default)]
    rename: BTreeMap<String, String>,
    /// `remove = ["name"]`.
    #[serde(default)]
    remove: Vec<String>,
}

/// The response mapping.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// Header edits applied to every response (after the rule):
    /// `headers = { remove = ["x-internal-trace"], set = { x-api = "books" } }`
    #[serde(default)]
    headers: EditsSpec,
    /// `[[plugins.NAME.config.response.rules]]`: the first rule whose `backend_status` matches
    /// applies; none matching: the response is kept.
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

/// One response rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `backend_status = "5\\d\\d"`: a regex the whole status must match (default: any).
    backend_status: Option<String>,
    /// `status = 502`: the status the client gets (default: the backend's).
    status: Option<u16>,
    /// `body = '''{"books": {{ body.Items }}}'''`: a JSON template replacing the body.
    body: Option<String>,
}

/// Validated edits; set values are template names.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    pub(crate) remove: Vec<String>,
    pub(crate) rename: Vec<(String, String)>,
    pub(crate) set: Vec<(String, String)>,
}

impl Edits {
    pub(crate) fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.rename.is_empty() && self.set.is_empty()
    }
}

/// A validated response rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) backend_status: Option<Regex>,
    pub(crate) status: Option<u16>,
    /// The template name of the body.
    pub(crate) body: Option<String>,
}

/// Everything the stages need.
#[derive(Debug)]
pub(crate) struct Rules {
    pub(crate) env: Environment<'static>,
    /// The top-level variables some template reads (`None`: all of them, for a template that
    /// calls `debug()`, which prints every variable). The others are never built.
    read: Option<BTreeSet<String>>,
    pub(crate) variables: minijinja::Value,
    /// `variables` as JSON, for planned templates.
    pub(crate) variables_json: serde_json::Value,
    /// The request side's templates without the engine, when every one has a plan.
    pub(crate) request_plans: Option<SidePlans>,
    /// The response side's templates without the engine, when every one has a plan.
    pub(crate) response_plans: Option<SidePlans>,
    pub(crate) method: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) query: Edits,
    pub(crate) headers: Edits,
    pub(crate) body: Option<String>,
    pub(crate) response_headers: Edits,
    pub(crate) rules: Vec<Rule>,
}

impl Rules {
    /// Whether some template reads the top-level variable `name`, so it must be built.
    pub(crate) fn reads(&self, name: &str) -> bool {
        self.read.as_ref().is_none_or(|read| read.contains(name))
    }
}

/// Whether the mapper refuses to edit header `lower`: the headers the gateway manages
/// (framing, hop-by-hop: the host refuses edits of them), and `host`, which names the backend.
fn is_managed(lower: &str) -> bool {
    header::is_managed(lower) || lower == "host"
}

impl TryFrom<Config> for Rules {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Self, InitError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_fuel(Some(FUEL));
        // Body templates write JSON: `{{ value }}` prints the value as JSON.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".body") {
                AutoEscape::Json
            } else {
                AutoEscape::None
            }
        });
        let mut templates = Templates {
            env: &mut env,
            sources: BTreeMap::new(),
        };
        let request = config.request;
        let method = request
            .method
            .map(|method| {
                if header::is_valid_name(&method) {
                    Ok(method)
                } else {
                    Err(InitError::invalid_config(
                        "request.method",
                        format!("`{method}` is not an HTTP method"),
                    ))
                }
            })
            .transpose()?;
        let path = request
            .path
            .map(|source| templates.add("request.path", source))
            .transpose()?;
        let query = templates.edits("request.query", request.query, false)?;
        let headers = templates.edits("request.headers", request.headers, true)?;
        let body = request
            .body
            .map(|source| templates.add("request.body", source))
            .transpose()?;
        let response_headers =
            templates.edits("response.headers", config.response.headers, true)?;
        let rules = config
            .response
            .rules
            .into_iter()
            .enumerate()
            .map(|(index, rule)| templates.rule(index, rule))
            .collect::<Result<Vec<_>, _>>()?;
        let plans = |side: Side, names: Vec<&String>| {
            SidePlans::new(
                side,
                names.into_iter().map(|name| {
                    let source = templates.sources.get(name).map_or("", String::as_str);
                    (name.as_str(), source, name.ends_with(".body"))
                }),
            )
        };
        let request_plans = plans(
            Side::Request,
            path.iter()
                .chain(body.iter())
                .chain(query.set.iter().map(|(_, template)| template))
                .chain(headers.set.iter().map(|(_, template)| template))
                .collect(),
        );
        let response_plans = plans(
            Side::Response,
            rules
                .iter()
                .filter_map(|rule| rule.body.as_ref())
                .chain(response_headers.set.iter().map(|(_, template)| template))
                .collect(),
        );
        let variables = minijinja::Value::from(minijinja::value::Serde(&config.variables));
        let variables_json = serde_json::Value::Object(config.variables);
        let read: BTreeSet<String> = env
            .templates()
            .flat_map(|(_, template)| template.undeclared_variables(false))
            .collect();
        Ok(Rules {
            read: (!read.contains("debug")).then_some(read),
            env,
            variables,
            variables_json,
            request_plans,
            response_plans,
            method,
            path,
            query,
            headers,
            body,
            response_headers,
            rules,
        })
    }
}

/// Adds templates to the environment, named after their config key.
struct Templates<'a> {
    env: &'a mut Environment<'static>,
    /// Each template's source by name, for its [`Plan`](crate::plan::Plan).
    sources: BTreeMap<String, String>,
}

impl Templates<'_> {
    /// Compiles `source` as the template `key`; a syntax error fails with the key.
    fn add(&mut self, key: &str, source: String) -> Result<String, InitError> {
        self.env
            .add_template_owned(key.to_owned(), source.clone())
            .map_err(|err| InitError::invalid_config(key, format!("template error: {err}")))?;
        self.sources.insert(key.to_owned(), source);
        Ok(key.to_owned())
    }

    fn edits(&mut self, key: &str, spec: EditsSpec, headers: bool) -> Result<Edits, InitError> {
        let name = |section: &str, name: &str| -> Result<String, InitError> {
            let key = format!("{key}.{section}.{name}");
            if !headers {
                return if name.is_empty() {
                    Err(InitError::invalid_config(&key, "empty parameter name"))
                } else {
                    Ok(name.to_owned())
                };
            }
            let lower = name.to_ascii_lowercase();
            if !header::is_valid_name(name) {
                Err(InitError::invalid_config(&key, "not a valid header name"))
            } else if is_managed(&lower) {
                Err(InitError::invalid_config(
                    &key,
                    format!("`{lower}` is managed by the gateway and cannot be edited"),
                ))
            } else {
                Ok(lower)
            }
        };
        let remove = spec
            .remove
            .iter()
            .map(|removed| name("remove", removed))
            .collect::<Result<_, _>>()?;
        let rename = spec
            .rename
            .iter()
            .map(|(from, to)| Ok((name("rename", from)?, name("rename", to)?)))
            .collect::<Result<_, InitError>>()?;
        let mut set = Vec::new();
        for (target, source) in spec.set {
            let target = name("set", &target)?;
            let template = self.add(&format!("{key}.set.{target}"), source)?;
            set.push((target, template));
        }
        Ok(Edits {
            remove,
            rename,
            set,
        })
    }

    fn rule(&mut self, index: usize, spec: RuleSpec) -> Result<Rule, InitError> {
        let key = format!("response.rules[{index}]");
        let backend_status = spec
            .backend_status
            .map(|pattern| {
                Regex::new(&format!("^(?:{pattern})$")).map_err(|err| {
                    InitError::invalid_config(
                        &format!("{key}.backend_status"),
                        format!("invalid regex: {err}"),
                    )
                })
            })
            .transpose()?;
        if let Some(status) = spec.status
            && !(100..=599).contains(&status)
        {
            return Err(InitError::invalid_config(
                &format!("{key}.status"),
                "must be 100 to 599",
            ));
        }
        let body = spec
            .body
            .map(|source| self.add(&format!("{key}.body"), source))
            .transpose()?;
        Ok(Rule {
            backend_status,
            status: spec.status,
            body,
        })
    }
}
