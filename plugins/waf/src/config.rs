//! The plugin's config: the serde surface ([`Config`]) and the validated [`Settings`] the
//! request path uses, which never derive `Deserialize`.

use std::collections::HashSet;

use serde::Deserialize;
use wasmgate_plugin_sdk::{InitError, header};

use crate::custom::{CustomRule, CustomRuleConfig};
use crate::ip::NetList;
use crate::rules::Class;
use crate::sqli::FINGERPRINTS;
use crate::targets::Collect;

/// The `config` table of a `waf` plugin; every key is optional. See the crate docs for a full
/// example.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `mode = "anomaly"`: `block` (any match blocks), `anomaly` (block when the score reaches
    /// `anomaly_threshold`) or `detect` (never block; log and set `waf.*` context keys).
    #[serde(default)]
    mode: Mode,
    /// `paranoia = 1`: 1 (default, few false positives) to 4 (most coverage).
    paranoia: Option<u8>,
    /// `anomaly_threshold = 5`: the score that blocks in `anomaly` mode (a critical match is 5).
    anomaly_threshold: Option<u32>,
    /// `classes = { sqli = true, xss = true, traversal = true, command = true, protocol = true }`
    #[serde(default)]
    classes: Classes,
    /// `inspect = { path = true, query = true, cookies = true, headers = ["user-agent", "referer"], body = true }`
    #[serde(default)]
    inspect: Inspect,
    /// `allowed_methods = ["GET", "POST"]`: other methods are refused (default: the RFC 9110
    /// methods and `PATCH`, without `CONNECT` and `TRACE`).
    allowed_methods: Option<Vec<String>>,
    /// `ip = { allow = ["10.0.0.0/8"], deny = ["203.0.113.0/24"], trusted_proxies = ["10.1.0.0/16"] }`
    #[serde(default)]
    ip: IpConfig,
    /// `disabled_rules = ["941180"]`: built-in rule ids switched off.
    #[serde(default)]
    disabled_rules: Vec<String>,
    /// `[[rules]]`: custom rules, see [`CustomRuleConfig`].
    #[serde(default)]
    rules: Vec<CustomRuleConfig>,
}

/// What the WAF does with matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Any built-in match (and any custom `block` rule) blocks.
    Block,
    /// Matches add up; the request is blocked when the score reaches the threshold.
    #[default]
    Anomaly,
    /// Nothing is blocked: matches are logged and reported in the context.
    Detect,
}

/// The detection classes, each on by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Classes {
    /// `sqli = true`
    sqli: bool,
    /// `xss = true`
    xss: bool,
    /// `traversal = true` (path traversal, file inclusion)
    traversal: bool,
    /// `command = true` (OS command injection)
    command: bool,
    /// `protocol = true` (methods, request smuggling markers, header injection, NUL bytes)
    protocol: bool,
}

impl Default for Classes {
    fn default() -> Self {
        Classes {
            sqli: true,
            xss: true,
            traversal: true,
            command: true,
            protocol: true,
        }
    }
}

/// Which parts of the request the built-in rules inspect.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Inspect {
    /// `path = true`
    path: bool,
    /// `query = true` (names and values)
    query: bool,
    /// `cookies = true` (names and values)
    cookies: bool,
    /// `headers = ["user-agent", "referer"]`, or `headers = "all"` (but `cookie` and
    /// `authorization`).
    headers: HeaderSelection,
    /// `body = true`: JSON values and keys, form fields, or the raw text. Makes the gateway
    /// buffer request bodies (up to its `max_body_bytes`).
    body: bool,
}

impl Default for Inspect {
    fn default() -> Self {
        Inspect {
            path: true,
            query: true,
            cookies: true,
            headers: HeaderSelection::Names(vec!["user-agent".into(), "referer".into()]),
            body: true,
        }
    }
}

/// `"all"` or a list of header names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum HeaderSelection {
    /// `"all"`
    All(String),
    /// `["user-agent"]`
    Names(Vec<String>),
}

/// IP lists.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpConfig {
    /// `allow = ["10.0.0.0/8"]`: when not empty, only these clients are let through.
    #[serde(default)]
    allow: Vec<String>,
    /// `deny = ["203.0.113.0/24"]`: these clients are refused (checked before `allow`).
    #[serde(default)]
    deny: Vec<String>,
    /// `trusted_proxies = ["10.1.0.0/16"]`: peers whose `X-Forwarded-For` is believed.
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

/// The validated config.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) mode: Mode,
    pub(crate) paranoia: u8,
    pub(crate) threshold: u32,
    pub(crate) classes: Vec<Class>,
    pub(crate) collect: Collect,
    pub(crate) allowed_methods: Vec<String>,
    pub(crate) allow: NetList,
    pub(crate) deny: NetList,
    pub(crate) trusted_proxies: NetList,
    pub(crate) disabled: HashSet<String>,
    pub(crate) custom: Vec<CustomRule>,
}

const DEFAULT_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl TryFrom<Config> for Settings {
    type Error = InitError;

    fn try_from(config: Config) -> Result<Settings, InitError> {
        let paranoia = config.paranoia.unwrap_or(1);
        if !(1..=4).contains(&paranoia) {
            return Err(InitError::invalid_config(
                "paranoia",
                "must be 1, 2, 3 or 4 (default 1)",
            ));
        }
        let threshold = config.anomaly_threshold.unwrap_or(5);
        if threshold == 0 {
            return Err(InitError::invalid_config(
                "anomaly_threshold",
                "must be at least 1 (a critical match scores 5; default 5)",
            ));
        }
        if config.anomaly_threshold.is_some() && config.mode != Mode::Anomaly {
            return Err(InitError::invalid_config(
                "anomaly_threshold",
                "only used with mode = \"anomaly\": remove it or change the mode",
            ));
        }
        let custom = config
            .rules
            .into_iter()
            .enumerate()
            .map(|(index, rule)| CustomRule::parse(rule, index))
            .collect::<Result<Vec<_>, _>>()?;
        for (index, rule) in custom.iter().enumerate() {
            if custom[..index].iter().any(|other| other.id == rule.id) || is_builtin(&rule.id) {
                return Err(InitError::invalid_config(
                    &format!("rules[{index}].id"),
                    format!(
                        "`{}` is already used by another rule: ids must be unique",
                        rule.id
                    ),
                ));
            }
        }
        let disabled: HashSet<String> = config.disabled_rules.into_iter().collect();
        if let Some(unknown) = disabled.iter().find(|id| !is_builtin(id)) {
            return Err(InitError::invalid_config(
                "disabled_rules",
                format!("`{unknown}` is not a built-in rule id (see the crate docs for the list)"),
            ));
        }
        let collect = collect(&config.inspect, &custom)?;
        Ok(Settings {
            mode: config.mode,
            paranoia,
            threshold,
            classes: classes(&config.classes),
            collect,
            allowed_methods: methods(config.allowed_methods)?,
            allow: NetList::parse(&config.ip.allow, "ip.allow")?,
            deny: NetList::parse(&config.ip.deny, "ip.deny")?,
            trusted_proxies: NetList::parse(&config.ip.trusted_proxies, "ip.trusted_proxies")?,
            disabled,
            custom,
        })
    }
}

fn is_builtin(id: &str) -> bool {
    crate::rules::all().any(|rule| rule.id == id)
        || FINGERPRINTS.iter().any(|rule| rule.id == id)
        || crate::protocol::RULE_IDS.contains(&id)
}

fn classes(config: &Classes) -> Vec<Class> {
    [
        (config.sqli, Class::Sqli),
        (config.xss, Class::Xss),
        (config.traversal, Class::Traversal),
        (config.command, Class::Command),
        (config.protocol, Class::Protocol),
    ]
    .into_iter()
    .filter_map(|(on, class)| on.then_some(class))
    .collect()
}

fn collect(inspect: &Inspect, custom: &[CustomRule]) -> Result<Collect, InitError> {
    let (all_headers, headers) = match &inspect.headers {
        HeaderSelection::All(all) if all == "all" => (true, Vec::new()),
        HeaderSelection::All(other) => {
            return Err(InitError::invalid_config(
                "inspect.headers",
                format!("`{other}`: use \"all\" or a list of header names"),
            ));
        }
        HeaderSelection::Names(names) => {
            let mut lower = Vec::with_capacity(names.len());
            for name in names {
                if !header::is_valid_name(name) {
                    return Err(InitError::invalid_config(
                        "inspect.headers",
                        format!("`{name}` is not a valid header name"),
                    ));
                }
                lower.push(name.to_ascii_lowercase());
            }
            (false, lower)
        }
    };
    let extra_headers = custom
        .iter()
        .filter_map(CustomRule::header)
        .filter(|name| !headers.iter().any(|h| h == name))
        .map(str::to_owned)
        .collect();
    Ok(Collect {
        path: inspect.path,
        query: inspect.query,
        cookies: inspect.cookies,
        body: inspect.body,
        all_headers,
        headers,
        extra_headers,
        extra_all_headers: custom.iter().any(CustomRule::wants_all_headers),
        extra_body: custom.iter().any(CustomRule::wants_body),
    })
}

fn methods(configured: Option<Vec<String>>) -> Result<Vec<String>, InitError> {
    let Some(methods) = configured else {
        return Ok(DEFAULT_METHODS.iter().map(|m| (*m).to_owned()).collect());
    };
    if methods.is_empty() {
        return Err(InitError::invalid_config(
            "allowed_methods",
            "an empty list would refuse every request: remove the key for the default",
        ));
    }
    methods
        .into_iter()
        .map(|method| {
            if header::is_valid_name(&method) {
                Ok(method.to_ascii_uppercase())
            } else {
                Err(InitError::invalid_config(
                    "allowed_methods",
                    format!("`{method}` is not a valid HTTP method"),
                ))
            }
        })
        .collect()
}
