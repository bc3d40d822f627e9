//! `[stages.<name>]` and `[domains."<host>"]`: how requests are assigned to stages, the stage
//! variables `${stage.NAME}` reads, stage throttling and canaries, and custom domains' base
//! paths.
//!
//! Stage variables are substituted when the config is checked: an upstream or a plugin whose
//! definition reads one gets one instance per deployment (stage, or stage canary), each checked
//! as if written with that deployment's values, so a missing variable or a value that makes a
//! bad URL is reported at the key that reads it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::super::de::toml_key;
use super::super::error::ConfigError;
use super::super::model::{
    Deployment, DomainMount, PluginDef, Route, StageCanary, StageDef, Throttle, staged_name,
};
use super::super::surface::{DomainSection, StageSection, ThrottleSection};
use super::traffic::SplitKeys;
use super::{Checker, listing};

/// What introduces a stage variable.
const OPENING: &str = "${stage.";

/// Why `${stage.NAME}` could not be substituted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unresolved {
    /// No stages are declared, so no variable has a value.
    NoStages(String),
    /// The deployment's stage has no such variable.
    Unknown(String),
    /// `${stage.` without a name and `}`.
    Malformed,
}

impl Unresolved {
    /// The error message and help, for a value read by deployment `deployment`.
    pub(super) fn explain(&self, deployment: &Deployment<'_>) -> (String, String) {
        let stage = deployment.stage.map_or("", |s| s.name.as_str());
        match self {
            Unresolved::NoStages(name) => (
                format!("`${{stage.{name}}}` reads a stage variable, but no stages are declared"),
                format!(
                    "declare the stages with their variables, e.g. `[stages.prod] variables = \
                     {{ {name} = \"…\" }}`"
                ),
            ),
            Unresolved::Unknown(name) => {
                let defined = deployment.variables.map_or(String::new(), |vars| {
                    listing(vars.keys().map(String::as_str))
                });
                let help = if defined.is_empty() {
                    format!("add `variables = {{ {name} = \"…\" }}` to `[stages.{stage}]`")
                } else {
                    format!("add `{name}` to `[stages.{stage}] variables` (defined: {defined})")
                };
                (format!("stage `{stage}` has no variable `{name}`"), help)
            }
            Unresolved::Malformed => (
                "`${stage.` is not followed by a variable name and `}`".to_owned(),
                "write stage variables as `${stage.NAME}`, NAME of letters, digits and `_`"
                    .to_owned(),
            ),
        }
    }
}

/// Whether `text` reads a stage variable.
pub(super) fn reads_stage_variables(text: &str) -> bool {
    text.contains(OPENING)
}

/// `text` with every `${stage.NAME}` replaced by the deployment's value of `NAME`.
pub(super) fn substitute<'t>(
    text: &'t str,
    deployment: &Deployment<'_>,
) -> Result<Cow<'t, str>, Unresolved> {
    if !reads_stage_variables(text) {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(OPENING) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPENING.len()..];
        let end = after.find('}').ok_or(Unresolved::Malformed)?;
        let name = &after[..end];
        if !is_variable_name(name) {
            return Err(Unresolved::Malformed);
        }
        let Some(variables) = deployment.variables else {
            return Err(Unresolved::NoStages(name.to_owned()));
        };
        let value = variables
            .get(name)
            .ok_or_else(|| Unresolved::Unknown(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_stage_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl Checker<'_> {
    /// `[stages]`: names, selections (no two stages take the same requests), variables,
    /// throttles and canaries. Route ids in `route_throttle` are checked by
    /// [`Checker::stage_route_ids`] once the routes are known.
    pub(super) fn stages(
        &mut self,
        sections: &BTreeMap<String, Spanned<StageSection>>,
    ) -> Vec<StageDef> {
        let mut stages = Vec::with_capacity(sections.len());
        // (host or "", base path or "") → the stage that took it.
        let mut selections: BTreeMap<(String, String), String> = BTreeMap::new();
        for (name, table) in sections {
            let prefix = format!("stages.{}", toml_key(name));
            if !is_stage_name(name) {
                let help = "stage names use lower-case letters, digits, `_` and `-`";
                let message = format!("invalid stage name `{name}`");
                self.error(table.span(), &prefix, message, Some(help.to_owned()));
            }
            let s = table.get_ref();
            let hosts: Vec<String> = s
                .hosts
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, host)| self.host(host, &format!("{prefix}.hosts[{i}]")))
                .collect();
            let base_path = s
                .base_path
                .as_ref()
                .map(|path| self.base_path(path, &format!("{prefix}.base_path")));
            let any_host = [String::new()];
            let selected_hosts = if hosts.is_empty() {
                &any_host[..]
            } else {
                &hosts
            };
            for host in selected_hosts {
                let selection = (host.clone(), base_path.clone().unwrap_or_default());
                if let Some(other) = selections.insert(selection, name.clone()) {
                    let what = match (host.as_str(), &base_path) {
                        ("", None) => "every request".to_owned(),
                        ("", Some(path)) => format!("requests under `{path}`"),
                        (host, None) => format!("requests for `{host}`"),
                        (host, Some(path)) => format!("requests for `{host}` under `{path}`"),
                    };
                    let message = format!("stages `{other}` and `{name}` both take {what}");
                    let help = "give each stage its own `hosts` or `base_path`";
                    self.error(table.span(), &prefix, message, Some(help.to_owned()));
                }
            }
            let variables = self.variables(&s.variables, &format!("{prefix}.variables"));
            let throttle = s
                .throttle
                .as_ref()
                .map(|t| self.throttle(t, &format!("{prefix}.throttle")));
            let route_throttle = s
                .route_throttle
                .iter()
                .map(|(route, t)| {
                    let key = format!("{prefix}.route_throttle.{}", toml_key(route));
                    (route.clone(), self.throttle(t, &key))
                })
                .collect();
            let canary = s.canary.as_ref().map(|table| {
                let key = format!("{prefix}.canary");
                let c = table.get_ref();
                let split = self.traffic_split(
                    SplitKeys {
                        percent: c.percent.as_ref(),
                        header: c.header.as_ref(),
                        cookie: c.cookie.as_ref(),
                        sticky: c.sticky.as_ref(),
                    },
                    &key,
                );
                let mut merged = variables.clone();
                merged.extend(self.variables(&c.variables, &format!("{key}.variables")));
                StageCanary {
                    split,
                    variables: merged,
                }
            });
            stages.push(StageDef {
                name: name.clone(),
                hosts,
                base_path,
                variables,
                throttle,
                route_throttle,
                canary,
            });
        }
        stages
    }

    /// `route_throttle` names routes by id: every one must exist.
    pub(super) fn stage_route_ids(
        &mut self,
        sections: &BTreeMap<String, Spanned<StageSection>>,
        routes: &[Route],
    ) {
        let ids: BTreeSet<&str> = routes.iter().map(|r| r.id.as_str()).collect();
        for (name, table) in sections {
            for (route, throttle) in &table.get_ref().route_throttle {
                if ids.contains(route.as_str()) {
                    continue;
                }
                let key = format!(
                    "stages.{}.route_throttle.{}",
                    toml_key(name),
                    toml_key(route)
                );
                let message = format!("no route has the id `{route}`");
                let help = format!("route ids: {}", listing(ids.iter().copied()));
                self.error(throttle.span(), &key, message, Some(help));
            }
        }
    }

    /// `variables = { NAME = "value" }`: names of letters, digits and `_`.
    fn variables(
        &mut self,
        table: &BTreeMap<String, Spanned<String>>,
        key: &str,
    ) -> BTreeMap<String, String> {
        let mut variables = BTreeMap::new();
        for (name, value) in table {
            if !is_variable_name(name) {
                let message = format!("invalid stage variable name `{name}`");
                let help = "variable names use letters, digits and `_`";
                let key = format!("{key}.{}", toml_key(name));
                self.error(value.span(), &key, message, Some(help.to_owned()));
            } else if reads_stage_variables(value.get_ref()) {
                let message = "a stage variable's value reads a stage variable".to_owned();
                let help = "write the value out in full";
                let key = format!("{key}.{}", toml_key(name));
                self.error(value.span(), &key, message, Some(help.to_owned()));
            }
            variables.insert(name.clone(), value.get_ref().clone());
        }
        variables
    }

    /// `throttle = { rate, burst }`.
    fn throttle(&mut self, table: &Spanned<ThrottleSection>, key: &str) -> Throttle {
        let t = table.get_ref();
        let rate = Some(t.rate.clone());
        let rate = self.number(&rate, &format!("{key}.rate"), 1, 1..=1_000_000) as u32;
        let burst = self.number(
            &t.burst,
            &format!("{key}.burst"),
            u64::from(rate),
            1..=1_000_000,
        ) as u32;
        Throttle {
            rate_per_second: rate,
            burst,
        }
    }

    /// A stage's or domain's base path: `/` and segments of plain characters, no trailing `/`.
    fn base_path(&mut self, path: &Spanned<String>, key: &str) -> String {
        let written = path.get_ref();
        let trimmed = written.trim_end_matches('/');
        let segment_ok = |segment: &str| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        };
        let ok = trimmed.starts_with('/') && trimmed[1..].split('/').all(segment_ok);
        if !ok {
            let message = format!("invalid base path `{written}`");
            let help = "a base path is `/` and one or more segments of letters, digits, `-`, \
                        `.`, `_` and `~`, e.g. `/prod` or `/orders/v1`";
            self.error(path.span(), key, message, Some(help.to_owned()));
        }
        trimmed.to_owned()
    }

    /// `[domains]`: each domain's base path; no domain twice (names are compared lower-case).
    pub(super) fn domains(
        &mut self,
        sections: &BTreeMap<String, Spanned<DomainSection>>,
    ) -> Vec<DomainMount> {
        let mut domains: Vec<DomainMount> = Vec::with_capacity(sections.len());
        for (host, table) in sections {
            let prefix = format!("domains.{}", toml_key(host));
            let name = Spanned::new(table.span(), host.clone());
            let host = self.host(&name, &prefix);
            let base_path =
                self.base_path(&table.get_ref().base_path, &format!("{prefix}.base_path"));
            if domains.iter().any(|d| d.host == host) {
                let message = format!("domain `{host}` is declared twice");
                let help = "domain names are compared in lower case: keep one table";
                self.error(table.span(), &prefix, message, Some(help.to_owned()));
                continue;
            }
            domains.push(DomainMount { host, base_path });
        }
        domains
    }

    /// Plugins whose component path or config reads stage variables become one instance per
    /// deployment, named [`staged_name`]; returns their names. (A stage canary can so run
    /// another build of a plugin: `path = "plugins/${stage.auth_build}.wasm"`.)
    pub(super) fn stage_plugins(
        &mut self,
        plugins: &mut BTreeMap<String, PluginDef>,
        deployments: &[Deployment<'_>],
    ) -> (BTreeSet<String>, BTreeMap<String, String>) {
        let mut shared = BTreeMap::new();
        let staged: BTreeSet<String> = plugins
            .values()
            .filter(|p| {
                reads_stage_variables(&p.path.to_string_lossy())
                    || json_reads_stage_variables(&p.config)
            })
            .map(|p| p.name.clone())
            .collect();
        for name in &staged {
            let def = plugins.remove(name).expect("a staged plugin is defined");
            for deployment in deployments {
                let Some(instance) = self.plugin_instance(&def, deployment) else {
                    continue;
                };
                let same = |stage: &PluginDef| {
                    stage.path == instance.path && stage.config == instance.config
                };
                let stage_instance = deployment
                    .stage
                    .filter(|_| deployment.canary)
                    .map(|stage| staged_name(name, &stage.name))
                    .filter(|stage| plugins.get(stage).is_some_and(same));
                match stage_instance {
                    Some(stage_instance) => {
                        shared.insert(instance.name, stage_instance);
                    }
                    None => {
                        plugins.insert(instance.name.clone(), instance);
                    }
                }
            }
        }
        (staged, shared)
    }

    /// `def` as `deployment` runs it (`None` without stages, or when a variable is missing:
    /// reported at the key that reads it, for a stage and not again for its canary).
    fn plugin_instance(
        &mut self,
        def: &PluginDef,
        deployment: &Deployment<'_>,
    ) -> Option<PluginDef> {
        let name = &def.name;
        let mut instance = def.clone();
        // The path as written (joined to the config's directory only after substitution, so
        // that a variable may hold an absolute path).
        let written = def.path.strip_prefix(&self.base_dir).unwrap_or(&def.path);
        let mut failure = match substitute(&written.to_string_lossy(), deployment) {
            Ok(path) => {
                instance.path = self.base_dir.join(path.as_ref());
                None
            }
            Err(unresolved) => Some((def.path_origin.clone(), unresolved)),
        };
        if failure.is_none() {
            let mut at = None;
            substitute_json(
                &mut instance.config,
                deployment,
                &mut String::new(),
                &mut at,
            );
            failure = at.map(|(path, unresolved)| {
                let mut origin = def.config_origin.clone();
                origin.key = format!("{}{path}", origin.key);
                (origin, unresolved)
            });
        }
        if let Some((origin, unresolved)) = failure {
            // A canary's variables include its stage's: report the stage only.
            if !deployment.canary {
                let (message, help) = unresolved.explain(deployment);
                let message = format!("plugin `{name}`: {message}");
                self.errors
                    .push(ConfigError::at(&origin, message, Some(help)));
            }
            return None;
        }
        instance.name = staged_name(name, deployment.name.as_deref()?);
        Some(instance)
    }
}

fn json_reads_stage_variables(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => reads_stage_variables(s),
        serde_json::Value::Array(items) => items.iter().any(json_reads_stage_variables),
        serde_json::Value::Object(map) => map.values().any(json_reads_stage_variables),
        _ => false,
    }
}

/// Substitutes stage variables in every string of `value`; the first failure is kept with the
/// key path it was found at (`.a.b[2]`).
fn substitute_json(
    value: &mut serde_json::Value,
    deployment: &Deployment<'_>,
    path: &mut String,
    failure: &mut Option<(String, Unresolved)>,
) {
    if failure.is_some() {
        return;
    }
    match value {
        serde_json::Value::String(s) => match substitute(s, deployment) {
            Ok(Cow::Owned(replaced)) => *s = replaced,
            Ok(Cow::Borrowed(_)) => {}
            Err(unresolved) => *failure = Some((path.clone(), unresolved)),
        },
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                substitute_json(item, deployment, path, failure);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(&toml_key(key));
                substitute_json(item, deployment, path, failure);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
