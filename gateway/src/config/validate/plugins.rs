//! `[plugins.<name>]` and `[chain]`: plugin definitions, their limits and config, and the chains
//! that name them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::Spanned;

use super::super::de::toml_key;
use super::super::model::{
    Capability, DocumentDef, DocumentSource, EngineSettings, FailurePolicy, InstanceMode, PluginDef,
};
use super::super::surface::{self, DocumentSection, PluginSection};
use super::{Checker, MIB, listing};

impl Checker<'_> {
    pub(super) fn plugins(
        &mut self,
        sections: &BTreeMap<String, Spanned<PluginSection>>,
        engine: &EngineSettings,
    ) -> BTreeMap<String, PluginDef> {
        let mut plugins = BTreeMap::new();
        for (name, table) in sections {
            let prefix = format!("plugins.{}", toml_key(name));
            if !is_plugin_name(name) {
                let help = "plugin names use lower-case letters, digits, `_` and `-`";
                let message = format!("invalid plugin name `{name}`");
                self.error(table.span(), &prefix, message, Some(help.to_owned()));
            }
            let s = table.get_ref();
            let path = self.file_path(&s.path, &format!("{prefix}.path"));
            let path_origin = self.loc.origin(s.path.span(), format!("{prefix}.path"));
            let (config, config_origin) = match &s.config {
                Some(config) => {
                    let key = format!("{prefix}.config");
                    let json = self.plugin_config(config, &key);
                    (json, self.loc.origin(config.span(), key))
                }
                None => (
                    serde_json::Value::Object(Default::default()),
                    self.loc.origin(table.span(), prefix.clone()),
                ),
            };
            let deadline = self.number(
                &s.deadline_ms,
                &format!("{prefix}.deadline_ms"),
                100,
                1..=60_000,
            );
            let queue_timeout = match &s.queue_timeout_ms {
                None => deadline,
                Some(_) => self.number(
                    &s.queue_timeout_ms,
                    &format!("{prefix}.queue_timeout_ms"),
                    deadline,
                    1..=60_000,
                ),
            };
            let ceiling_mb = engine.max_memory_bytes / MIB;
            let memory_mb = self.limit(
                &s.memory_mb,
                &prefix,
                "memory_mb",
                32,
                ("engine.max_memory_mb", ceiling_mb),
            );
            let max_instances = self.limit(
                &s.max_instances,
                &prefix,
                "max_instances",
                64,
                ("engine.max_instances", u64::from(engine.max_instances)),
            );
            let grants = self.grants(s.grants.as_ref(), &prefix);
            let grants_origin = match &s.grants {
                Some(grants) => self.loc.origin(grants.span(), format!("{prefix}.grants")),
                None => self.loc.origin(table.span(), prefix.clone()),
            };
            let documents = self.documents(&s.documents, &prefix);
            plugins.insert(
                name.clone(),
                PluginDef {
                    name: name.clone(),
                    path: path.unwrap_or_default(),
                    config,
                    failure_policy: match s.failure_policy {
                        None | Some(surface::FailurePolicy::Closed) => FailurePolicy::Closed,
                        Some(surface::FailurePolicy::Open) => FailurePolicy::Open,
                    },
                    instance_mode: match s.instance_mode {
                        None | Some(surface::InstanceMode::Pooled) => InstanceMode::Pooled,
                        Some(surface::InstanceMode::Fresh) => InstanceMode::Fresh,
                    },
                    deadline: Duration::from_millis(deadline),
                    queue_timeout: Duration::from_millis(queue_timeout),
                    memory_limit_bytes: memory_mb * MIB,
                    max_instances: u32::try_from(max_instances).unwrap_or(u32::MAX),
                    grants,
                    grants_origin,
                    documents,
                    path_origin,
                    config_origin,
                },
            );
        }
        plugins
    }

    /// `grants = [...]`: known capability names, none twice.
    fn grants(
        &mut self,
        grants: Option<&Spanned<Vec<Spanned<String>>>>,
        prefix: &str,
    ) -> BTreeSet<Capability> {
        let mut granted = BTreeSet::new();
        for (i, name) in grants
            .map(Spanned::get_ref)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let key = format!("{prefix}.grants[{i}]");
            match Capability::from_name(name.get_ref()) {
                Some(capability) if !granted.insert(capability) => {
                    let message = format!("capability `{}` is granted twice", name.get_ref());
                    self.error(name.span(), &key, message, None);
                }
                Some(_) => {}
                None => {
                    let message = format!("unknown capability `{}`", name.get_ref());
                    let help = format!(
                        "capabilities: {}",
                        listing(Capability::ALL.iter().map(|c| c.as_str()))
                    );
                    self.error(name.span(), &key, message, Some(help));
                }
            }
        }
        granted
    }

    /// `[plugins.<name>.documents]`: each a file or a URL, with URL timings in range.
    fn documents(
        &mut self,
        sections: &BTreeMap<String, Spanned<DocumentSection>>,
        prefix: &str,
    ) -> BTreeMap<String, DocumentDef> {
        let mut documents = BTreeMap::new();
        for (name, section) in sections {
            let key = format!("{prefix}.documents.{}", toml_key(name));
            let s = section.get_ref();
            let document = match (&s.file, &s.url) {
                (Some(file), None) => {
                    for (field, value) in
                        [("refresh_ms", &s.refresh_ms), ("timeout_ms", &s.timeout_ms)]
                    {
                        if let Some(value) = value {
                            let message = format!("`{field}` only applies to URL documents");
                            self.error(value.span(), &format!("{key}.{field}"), message, None);
                        }
                    }
                    self.file_path(file, &format!("{key}.file"))
                        .map(DocumentSource::File)
                }
                (None, Some(url)) => {
                    let refresh = self.number(
                        &s.refresh_ms,
                        &format!("{key}.refresh_ms"),
                        300_000,
                        1000..=86_400_000,
                    );
                    let timeout = self.number(
                        &s.timeout_ms,
                        &format!("{key}.timeout_ms"),
                        5000,
                        1..=60_000,
                    );
                    self.document_url(url, &format!("{key}.url"))
                        .map(|url| DocumentSource::Url {
                            url,
                            refresh: Duration::from_millis(refresh),
                            timeout: Duration::from_millis(timeout),
                        })
                }
                _ => {
                    let message = "a document needs exactly one of `file` and `url`".to_owned();
                    let help = "e.g. `{ file = \"schemas/order.json\" }` or \
                                `{ url = \"http://idp.internal/jwks.json\" }`";
                    self.error(section.span(), &key, message, Some(help.to_owned()));
                    None
                }
            };
            if let Some(source) = document {
                let origin = self.loc.origin(section.span(), key);
                documents.insert(name.clone(), DocumentDef { source, origin });
            }
        }
        documents
    }

    fn document_url(&mut self, value: &Spanned<String>, key: &str) -> Option<http::Uri> {
        let raw = value.get_ref();
        let problem = match raw.parse::<http::Uri>() {
            Err(e) => format!("invalid URL `{raw}`: {e}"),
            Ok(uri) if uri.authority().is_none() => format!("URL `{raw}` has no host"),
            Ok(uri) => match uri.scheme_str() {
                Some("http" | "https") => return Some(uri),
                _ => format!("unsupported URL `{raw}`"),
            },
        };
        let help = "use an `http://` or `https://` URL, or a `file` next to the config";
        self.error(value.span(), key, problem, Some(help.to_owned()));
        None
    }

    /// A per-plugin limit capped by an engine-wide one: from 1 to the engine's value. The
    /// default is lowered to the engine's value when that is smaller.
    fn limit(
        &mut self,
        value: &Option<Spanned<u64>>,
        prefix: &str,
        name: &str,
        default: u64,
        (engine_key, ceiling): (&str, u64),
    ) -> u64 {
        let key = format!("{prefix}.{name}");
        match value {
            Some(v) if *v.get_ref() > ceiling => {
                let message = format!(
                    "`{name} = {}` is above the engine's ceiling of {ceiling}",
                    v.get_ref()
                );
                let help = format!("lower `{name}`, or raise `{engine_key}`");
                self.error(v.span(), &key, message, Some(help));
                ceiling
            }
            _ => self.number(value, &key, default.min(ceiling), 1..=ceiling.max(1)),
        }
    }

    /// The plugin's config table as JSON: datetimes become RFC 3339 strings.
    fn plugin_config(&mut self, config: &Spanned<toml::Table>, key: &str) -> serde_json::Value {
        match table_to_json(config.get_ref(), key) {
            Ok(json) => json,
            Err(at) => {
                let message = format!("`{at}` is not a finite number, which JSON cannot carry");
                let help = "plugin config is passed to the plugin as JSON: use a finite number \
                            or a string";
                self.error(config.span(), &at, message, Some(help.to_owned()));
                serde_json::Value::Null
            }
        }
    }

    /// `[chain] plugins`: every name defined, none twice.
    pub(super) fn global_chain(
        &mut self,
        names: &[Spanned<String>],
        plugins: &BTreeMap<String, PluginDef>,
    ) -> Vec<String> {
        self.chain(names, "chain.plugins", &[], plugins)
    }

    /// A chain of plugin names: each must be defined and appear once, counting `before` (the
    /// global chain, for a route's chain).
    pub(super) fn chain(
        &mut self,
        names: &[Spanned<String>],
        key: &str,
        before: &[String],
        plugins: &BTreeMap<String, PluginDef>,
    ) -> Vec<String> {
        let mut chain: Vec<String> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let key = format!("{key}[{i}]");
            let n = name.get_ref();
            if !plugins.contains_key(n) {
                let help = if plugins.is_empty() {
                    "no plugins are defined: add a `[plugins.<name>]` table with a `path`"
                        .to_owned()
                } else {
                    format!(
                        "defined plugins: {}",
                        listing(plugins.keys().map(String::as_str))
                    )
                };
                self.error(
                    name.span(),
                    &key,
                    format!("unknown plugin `{n}`"),
                    Some(help),
                );
            } else if before.contains(n) {
                let message = format!("plugin `{n}` is already in the global chain");
                let help =
                    "global plugins run on every route: remove it from the route's `plugins`";
                self.error(name.span(), &key, message, Some(help.to_owned()));
            } else if chain.contains(n) {
                let message = format!("plugin `{n}` appears twice in the chain");
                let help = "a plugin runs at most once per request: remove one of them";
                self.error(name.span(), &key, message, Some(help.to_owned()));
            }
            chain.push(n.clone());
        }
        chain
    }
}

fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// TOML → JSON. On a value JSON cannot carry (NaN, infinity), returns its key path.
fn table_to_json(table: &toml::Table, key: &str) -> Result<serde_json::Value, String> {
    let mut map = serde_json::Map::new();
    for (k, v) in table {
        map.insert(
            k.clone(),
            value_to_json(v, &format!("{key}.{}", toml_key(k)))?,
        );
    }
    Ok(serde_json::Value::Object(map))
}

fn value_to_json(value: &toml::Value, key: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => {
            J::Number(serde_json::Number::from_f64(*f).ok_or_else(|| key.to_owned())?)
        }
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| value_to_json(v, &format!("{key}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => table_to_json(t, key)?,
    })
}
