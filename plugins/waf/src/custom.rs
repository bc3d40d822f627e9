//! Operator-defined rules: a target, an operator, a pattern and an action.

use regex::Regex;
use serde::Deserialize;
use wasmgate_plugin_sdk::InitError;

use crate::targets::{Location, Target};

/// One `[[rules]]` entry.
///
/// ```toml
/// [[plugins.waf.config.rules]]
/// id = "no-debug"            # unique, reported in the log and `waf.matched`
/// target = "header:x-debug"  # see below
/// operator = "equals"        # contains | equals | starts_with | ends_with | regex | size_greater_than
/// pattern = "1"
/// action = "block"           # block | log | score (default block)
/// score = 5                  # points added by `score` (default 5)
/// normalize = false          # match the decoded, lower-case value (default false)
/// ```
///
/// Targets: `path`, `query` (every name and value), `query:NAME`, `headers`, `header:NAME`,
/// `cookies`, `cookie:NAME`, `body` (the whole body), `method`, `any` (all but the method).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRuleConfig {
    /// `id = "no-debug"`
    id: String,
    /// `target = "header:x-debug"`
    target: String,
    /// `operator = "contains"`
    operator: OperatorName,
    /// `pattern = "…"`
    pattern: String,
    /// `action = "block"`
    #[serde(default)]
    action: RuleAction,
    /// `score = 5`
    score: Option<u32>,
    /// `normalize = true`
    #[serde(default)]
    normalize: bool,
}

/// The operator of a custom rule.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorName {
    /// The value contains the pattern.
    Contains,
    /// The value is the pattern.
    Equals,
    /// The value starts with the pattern.
    StartsWith,
    /// The value ends with the pattern.
    EndsWith,
    /// The regex (Rust `regex` syntax) matches somewhere in the value.
    Regex,
    /// The value is longer than the pattern (a number of bytes).
    SizeGreaterThan,
}

/// What a matching custom rule does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Block the request (except in detect mode).
    #[default]
    Block,
    /// Only log (and report in `waf.matched`).
    Log,
    /// Add `score` to the anomaly score.
    Score,
}

/// Which values a custom rule reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Path,
    Query,
    QueryParam(String),
    Headers,
    Header(String),
    Cookies,
    Cookie(String),
    Body,
    Method,
    Any,
}

#[derive(Debug)]
enum Operator {
    Contains(String),
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Regex(Regex),
    SizeGreaterThan(usize),
}

/// A validated custom rule.
#[derive(Debug)]
pub(crate) struct CustomRule {
    pub(crate) id: String,
    selector: Selector,
    operator: Operator,
    pub(crate) action: RuleAction,
    pub(crate) score: u32,
    normalize: bool,
}

impl CustomRule {
    /// Validates `rules[index]`.
    pub(crate) fn parse(config: CustomRuleConfig, index: usize) -> Result<Self, InitError> {
        let at = |key: &str| format!("rules[{index}].{key}");
        if config.id.trim().is_empty() || config.id.contains(',') {
            return Err(InitError::invalid_config(
                &at("id"),
                "give the rule a non-empty id without commas, e.g. `block-debug-header`",
            ));
        }
        let selector = parse_selector(&config.target).ok_or_else(|| {
            InitError::invalid_config(
                &at("target"),
                format!(
                    "unknown target `{}`: use path, query, query:NAME, headers, header:NAME, \
                     cookies, cookie:NAME, body, method or any",
                    config.target
                ),
            )
        })?;
        let pattern = if config.normalize {
            config.pattern.to_lowercase()
        } else {
            config.pattern.clone()
        };
        let operator = match config.operator {
            OperatorName::Contains => Operator::Contains(pattern),
            OperatorName::Equals => Operator::Equals(pattern),
            OperatorName::StartsWith => Operator::StartsWith(pattern),
            OperatorName::EndsWith => Operator::EndsWith(pattern),
            OperatorName::Regex => Operator::Regex(Regex::new(&config.pattern).map_err(|e| {
                InitError::invalid_config(&at("pattern"), format!("invalid regex: {e}"))
            })?),
            OperatorName::SizeGreaterThan => {
                Operator::SizeGreaterThan(config.pattern.trim().parse().map_err(|_| {
                    InitError::invalid_config(
                        &at("pattern"),
                        "`size_greater_than` takes a number of bytes, e.g. pattern = \"4096\"",
                    )
                })?)
            }
        };
        if !matches!(operator, Operator::Regex(_) | Operator::SizeGreaterThan(_))
            && config.pattern.is_empty()
        {
            return Err(InitError::invalid_config(
                &at("pattern"),
                "must not be empty",
            ));
        }
        if config.score.is_some() && config.action != RuleAction::Score {
            return Err(InitError::invalid_config(
                &at("score"),
                "only used with action = \"score\": remove it or change the action",
            ));
        }
        Ok(CustomRule {
            id: config.id,
            selector,
            operator,
            action: config.action,
            score: config.score.unwrap_or(5),
            normalize: config.normalize,
        })
    }

    /// The header this rule needs read even when headers are not inspected.
    pub(crate) fn header(&self) -> Option<&str> {
        match &self.selector {
            Selector::Header(name) => Some(name),
            _ => None,
        }
    }

    pub(crate) fn wants_all_headers(&self) -> bool {
        matches!(self.selector, Selector::Headers | Selector::Any)
    }

    pub(crate) fn wants_body(&self) -> bool {
        matches!(self.selector, Selector::Body | Selector::Any)
    }

    /// Whether some target this rule reads matches.
    pub(crate) fn matches(&self, method: &str, targets: &[Target]) -> bool {
        if self.selector == Selector::Method {
            return self.test(method, &method.to_lowercase());
        }
        targets
            .iter()
            .filter(|target| self.selects(&target.location))
            .any(|target| {
                let normalized = if self.normalize {
                    target.normalized().text.as_str()
                } else {
                    ""
                };
                self.test(&target.value, normalized)
            })
    }

    fn selects(&self, location: &Location) -> bool {
        match (&self.selector, location) {
            (Selector::Any, Location::Combined) => false,
            (Selector::Any, _) => true,
            (Selector::Path, Location::Path) => true,
            (Selector::Query, Location::QueryName | Location::QueryValue(_)) => true,
            (Selector::QueryParam(want), Location::QueryValue(name)) => want == name,
            (Selector::Headers, Location::Header(_)) => true,
            (Selector::Header(want), Location::Header(name)) => want == name,
            (Selector::Cookies, Location::Cookie(_) | Location::CookieName) => true,
            (Selector::Cookie(want), Location::Cookie(name)) => want == name,
            (Selector::Body, Location::Body) => true,
            _ => false,
        }
    }

    fn test(&self, raw: &str, normalized: &str) -> bool {
        let value = if self.normalize { normalized } else { raw };
        match &self.operator {
            Operator::Contains(p) => value.contains(p.as_str()),
            Operator::Equals(p) => value == p,
            Operator::StartsWith(p) => value.starts_with(p.as_str()),
            Operator::EndsWith(p) => value.ends_with(p.as_str()),
            Operator::Regex(re) => re.is_match(value),
            Operator::SizeGreaterThan(size) => raw.len() > *size,
        }
    }
}

fn parse_selector(target: &str) -> Option<Selector> {
    let selector = match target.split_once(':') {
        None => match target {
            "path" => Selector::Path,
            "query" => Selector::Query,
            "headers" => Selector::Headers,
            "cookies" => Selector::Cookies,
            "body" => Selector::Body,
            "method" => Selector::Method,
            "any" => Selector::Any,
            _ => return None,
        },
        Some((_, "")) => return None,
        Some(("query", name)) => Selector::QueryParam(name.to_owned()),
        Some(("header", name)) if wasmgate_plugin_sdk::header::is_valid_name(name) => {
            Selector::Header(name.to_ascii_lowercase())
        }
        Some(("cookie", name)) => Selector::Cookie(name.to_owned()),
        _ => return None,
    };
    Some(selector)
}
