//! Surface → model: checks everything and collects **every** problem, not just the first.
//!
//! Each section is converted even when it has errors (with defaults in place of bad values), so
//! that one mistake does not hide the next or cascade into spurious "unknown plugin" errors.

mod admin;
mod integration;
mod plugins;
mod record;
mod routes;
mod settings;
mod stages;
mod store;
mod template;
mod time;
mod tls;
mod tracing;
mod traffic;
mod upstreams;

use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};

use http::HeaderName;
use toml::Spanned;

use super::error::{ConfigError, ConfigErrors, Locator};
use super::model::{Config, DocumentSource, StagedNames, deployments};
use super::surface::ConfigFile;

const MIB: u64 = 1024 * 1024;

/// Validates a parsed file. `source` is the absolute config path (relative paths in the file
/// resolve against its directory), `digest` the SHA-256 of its bytes.
pub(super) fn validate(
    loc: &Locator<'_>,
    file: ConfigFile,
    source: PathBuf,
    digest: String,
) -> Result<Config, ConfigErrors> {
    let base_dir = source.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut c = Checker {
        loc,
        base_dir,
        errors: Vec::new(),
        referenced_files: Vec::new(),
    };
    let gateway = c.gateway(&file.gateway);
    let listeners = c.listeners(&file.listeners);
    let (admin, token_file) = c.admin(&file.admin, &file.listeners);
    let reload = c.reload(&file.reload);
    let access_log = c.access_log(&file.access_log);
    let engine = c.engine(&file.engine);
    let stages = c.stages(&file.stages);
    let domains = c.domains(&file.domains);
    let deployments = deployments(&stages);
    let (mut upstreams, staged_upstreams, shared_upstreams) =
        c.upstreams(&file.upstreams, &deployments);
    let store = c.store(&file.store);
    let tracing = c.tracing(&file.tracing);
    let mut plugins = c.plugins(&file.plugins, &engine);
    let global_chain = c.global_chain(&file.chain.plugins, &plugins);
    let routes = c.routes(&file.routes, &upstreams, &plugins, &global_chain);
    c.stage_route_ids(&file.stages, &routes);
    let (staged_plugins, shared_plugins) = c.stage_plugins(&mut plugins, &deployments);
    // The staged upstreams' own names served the routes' checks; requests use the instances.
    upstreams.retain(|name, _| !staged_upstreams.contains(name));
    drop(deployments);
    let versioning = c.versioning(&file.versioning, &routes);
    let record = file.record.as_ref().map(|r| c.record(r, &routes));
    let mut watched_files: Vec<PathBuf> = plugins.values().map(|p| p.path.clone()).collect();
    let document_files = plugins.values().flat_map(|p| p.documents.values());
    watched_files.extend(
        document_files.filter_map(|document| match &document.source {
            DocumentSource::File(path) => Some(path.clone()),
            DocumentSource::Url { .. } => None,
        }),
    );
    watched_files.extend(token_file);
    watched_files.append(&mut c.referenced_files);
    watched_files.sort();
    watched_files.dedup();
    if !c.errors.is_empty() {
        let mut errors = c.errors;
        // File order; errors about the file as a whole first.
        errors.sort_by_key(|e| (e.line, e.column));
        // A value checked once per stage fails alike in each.
        errors.dedup_by(|a, b| {
            (a.line, a.column, &a.key, &a.message) == (b.line, b.column, &b.key, &b.message)
        });
        return Err(ConfigErrors(errors));
    }
    Ok(Config {
        source,
        source_digest: digest,
        watched_files,
        listeners,
        admin,
        reload,
        access_log,
        record,
        gateway,
        engine,
        versioning,
        upstreams,
        store,
        tracing,
        plugins,
        global_chain,
        routes,
        stages,
        domains,
        staged: StagedNames {
            upstreams: staged_upstreams,
            plugins: staged_plugins,
            shared_upstreams,
            shared_plugins,
        },
    })
}

/// The validation context: where errors go and what relative paths resolve against.
struct Checker<'a> {
    loc: &'a Locator<'a>,
    base_dir: PathBuf,
    errors: Vec<ConfigError>,
    /// Files read while validating (certificates, keys, CA bundles): watched for reloads.
    referenced_files: Vec<PathBuf>,
}

impl Checker<'_> {
    /// Records an error at `span`.
    fn error(&mut self, span: Range<usize>, key: &str, message: String, help: Option<String>) {
        let error = self
            .loc
            .error(Some(span), Some(key.to_owned()), message, help);
        self.errors.push(error);
    }

    /// An optional integer with a default, reported when outside `range`.
    fn number(
        &mut self,
        value: &Option<Spanned<u64>>,
        key: &str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> u64 {
        let Some(value) = value else { return default };
        let n = *value.get_ref();
        if !range.contains(&n) {
            let name = key.rsplit('.').next().unwrap_or(key);
            let help = format!("use a value from {} to {}", range.start(), range.end());
            self.error(
                value.span(),
                key,
                format!("`{name} = {n}` is out of range"),
                Some(help),
            );
            return default;
        }
        n
    }

    fn header_name(&mut self, value: &Spanned<String>, key: &str) -> Option<HeaderName> {
        let parsed = HeaderName::from_bytes(value.get_ref().as_bytes());
        if parsed.is_err() {
            let help =
                "header names are non-empty tokens: letters, digits and `-`, e.g. `x-api-version`";
            let message = format!("invalid header name `{}`", value.get_ref());
            self.error(value.span(), key, message, Some(help.to_owned()));
        }
        parsed.ok()
    }

    /// A path relative to the config file's directory, made absolute.
    fn file_path(&mut self, value: &Spanned<String>, key: &str) -> Option<PathBuf> {
        if value.get_ref().is_empty() {
            self.error(
                value.span(),
                key,
                "empty path".into(),
                Some("paths are relative to the config file's directory".into()),
            );
            return None;
        }
        Some(self.base_dir.join(value.get_ref()))
    }
}

/// "`a`, `b`, `c`": names for a help line.
fn listing<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod stages_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod traffic_tests;
