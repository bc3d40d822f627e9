//! `[[routes]]`: methods, hosts, path templates, versions, ids and chains, and routes that
//! overlap (same host, version, path and method) or that the router cannot tell apart. Integrations and deprecation
//! notices are in `integration.rs`.

use std::collections::{BTreeMap, HashMap};

use http::Method;
use toml::Spanned;

use super::super::model::{PluginDef, Route, Upstream};
use super::super::surface::RouteSection;
use super::{Checker, listing, template};

/// The methods a route may name.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
];

/// A route's host, version and path template.
type Site = (Option<String>, Option<String>, String);

/// Routes seen so far, to find overlaps and router conflicts.
#[derive(Default)]
struct Seen {
    /// (host, version, path) → the routes with that host, version and template.
    by_template: HashMap<Site, Vec<usize>>,
    /// One scratch router per host and version, as the real router is built.
    routers: HashMap<(Option<String>, Option<String>), matchit::Router<usize>>,
    /// Route ids → (route index, whether the id was written in the file).
    ids: HashMap<String, (usize, bool)>,
}

impl Checker<'_> {
    pub(super) fn routes(
        &mut self,
        sections: &[RouteSection],
        upstreams: &BTreeMap<String, Upstream>,
        plugins: &BTreeMap<String, PluginDef>,
        global_chain: &[String],
    ) -> Vec<Route> {
        let mut seen = Seen::default();
        let mut routes: Vec<Route> = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let prefix = format!("routes[{i}]");
            let errors_before = self.errors.len();
            let methods = self.methods(s.methods.as_deref().unwrap_or_default(), &prefix);
            // A list of bad methods is not "any method": don't report overlaps from it.
            let methods_ok = self.errors.len() == errors_before;
            let version = s.version.as_ref().map(|v| self.version(v, &prefix));
            let host = s
                .host
                .as_ref()
                .map(|h| self.host(h, &format!("{prefix}.host")));
            let path = s.path.get_ref().clone();
            let path_ok = match template::check(&path) {
                Ok(()) => true,
                Err((message, help)) => {
                    self.error(
                        s.path.span(),
                        &format!("{prefix}.path"),
                        message,
                        Some(help),
                    );
                    false
                }
            };
            let id = self.route_id(
                s,
                i,
                &methods,
                host.as_deref(),
                version.as_deref(),
                &mut seen,
            );
            let chain = self.chain(
                &s.plugins,
                &format!("{prefix}.plugins"),
                global_chain,
                plugins,
            );
            let integration = self.integration(&s.integration, &prefix, upstreams, &methods);
            let deprecation = s.deprecation.as_ref().map(|d| self.deprecation(d, &prefix));
            let route = Route {
                id,
                methods,
                host,
                path,
                version,
                plugins: chain,
                integration,
                deprecation,
            };
            if path_ok && methods_ok {
                self.overlaps(&route, &s.path, i, &routes, &mut seen);
            }
            routes.push(route);
        }
        routes
    }

    fn methods(&mut self, names: &[Spanned<String>], prefix: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let key = format!("{prefix}.methods[{j}]");
            let upper = name.get_ref().to_ascii_uppercase();
            let (message, help) = if let Some(m) = METHODS.iter().find(|m| **m == upper) {
                let method = Method::from_bytes(m.as_bytes()).expect("a standard method");
                if !methods.contains(&method) {
                    methods.push(method);
                    continue;
                }
                (
                    format!("method `{m}` is listed twice"),
                    "remove one of them".to_owned(),
                )
            } else if matches!(upper.as_str(), "ANY" | "*") {
                (
                    format!("`{}` is not a method", name.get_ref()),
                    "leave `methods` out (or empty) to match any method".to_owned(),
                )
            } else {
                (
                    format!("unknown HTTP method `{}`", name.get_ref()),
                    format!("expected one of {}", listing(METHODS)),
                )
            };
            self.error(name.span(), &key, message, Some(help));
        }
        methods
    }

    fn version(&mut self, version: &Spanned<String>, prefix: &str) -> String {
        let v = version.get_ref();
        if v.is_empty()
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            let help = "versions use letters, digits, `.`, `_` and `-`, e.g. `v2` or `2024-06-01`";
            self.error(
                version.span(),
                &format!("{prefix}.version"),
                format!("invalid version `{v}`"),
                Some(help.into()),
            );
        }
        v.clone()
    }

    /// A host a route, stage or domain names: a name or a wildcard over its subdomains,
    /// lower-cased.
    pub(super) fn host(&mut self, host: &Spanned<String>, key: &str) -> String {
        let written = host.get_ref().to_ascii_lowercase();
        // Requests may name a host with its trailing dot (`example.com.`): the same host.
        let pattern = written.strip_suffix('.').unwrap_or(&written).to_owned();
        let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !name.split('.').all(label_ok) {
            let help = "a host is a name such as `api.example.com` (punycode `xn--…` for \
                        other scripts) or an IPv4 address, or `*.example.com` for the subdomains \
                        of a name (any depth), without a scheme, port or path";
            self.error(
                host.span(),
                key,
                format!("invalid host `{}`", host.get_ref()),
                Some(help.into()),
            );
        }
        pattern
    }

    /// The route's id (written, or `METHODS hostpath` plus ` (version)`); written ids must be
    /// unique.
    fn route_id(
        &mut self,
        s: &RouteSection,
        i: usize,
        methods: &[Method],
        host: Option<&str>,
        version: Option<&str>,
        seen: &mut Seen,
    ) -> String {
        let written = s.id.is_some();
        let id = match &s.id {
            Some(id) => id.get_ref().clone(),
            None => {
                let names: Vec<&str> = methods.iter().map(Method::as_str).collect();
                let methods = if names.is_empty() {
                    "ANY".to_owned()
                } else {
                    names.join(",")
                };
                let version = version.map(|v| format!(" ({v})")).unwrap_or_default();
                let host = host.unwrap_or_default();
                format!("{methods} {host}{}{version}", s.path.get_ref())
            }
        };
        let span = s.id.as_ref().map_or(s.path.span(), Spanned::span);
        let key = format!("routes[{i}].id");
        if id.is_empty() {
            self.error(
                span,
                &key,
                "empty route id".into(),
                Some("leave `id` out to use `METHODS path`".into()),
            );
        } else if let Some(&(first, first_written)) = seen.ids.get(&id) {
            // Two default ids only collide on duplicate routes, which are reported as such.
            if written || first_written {
                let help = format!("routes[{first}] has the same id; route ids must be unique");
                self.error(span, &key, format!("duplicate route id `{id}`"), Some(help));
            }
        } else {
            seen.ids.insert(id.clone(), (i, written));
        }
        id
    }

    /// Reports a route matching the same version, path and method as an earlier one, or a path
    /// the router cannot tell apart from an earlier one.
    fn overlaps(
        &mut self,
        route: &Route,
        path: &Spanned<String>,
        i: usize,
        earlier: &[Route],
        seen: &mut Seen,
    ) {
        let template = (
            route.host.clone(),
            route.version.clone(),
            route.path.clone(),
        );
        let same_template = seen.by_template.entry(template).or_default();
        let clash = same_template
            .iter()
            .map(|&j| (j, &earlier[j]))
            .find(|(_, other)| {
                route.methods.is_empty()
                    || other.methods.is_empty()
                    || route.methods.iter().any(|m| other.methods.contains(m))
            });
        let first_of_template = same_template.is_empty();
        same_template.push(i);
        if let Some((j, other)) = clash {
            let common: Vec<&str> = if route.methods.is_empty() {
                vec!["ANY"]
            } else if other.methods.is_empty() {
                route.methods.iter().map(Method::as_str).collect()
            } else {
                route
                    .methods
                    .iter()
                    .filter(|m| other.methods.contains(m))
                    .map(Method::as_str)
                    .collect()
            };
            let version = route
                .version
                .as_ref()
                .map(|v| format!(" (version `{v}`)"))
                .unwrap_or_default();
            let host = route.host.as_deref().unwrap_or_default();
            let message = format!(
                "duplicate route: `{} {host}{}`{version} is already routed by routes[{j}] (`{}`)",
                common.join(","),
                route.path,
                other.id
            );
            let help = if route.methods.is_empty() || other.methods.is_empty() {
                "a route without `methods` matches every method: give both routes disjoint \
                 `methods`, or change `host`, `path` or `version`"
            } else {
                "two routes cannot match the same host, version, path and method: remove one, or \
                 change its `methods`, `host`, `path` or `version`"
            };
            self.error(
                path.span(),
                &format!("routes[{i}]"),
                message,
                Some(help.to_owned()),
            );
            return;
        }
        if !first_of_template {
            return;
        }
        let router = seen
            .routers
            .entry((route.host.clone(), route.version.clone()))
            .or_default();
        if let Err(e) = router.insert(route.path.clone(), i) {
            let (message, help) = match e {
                matchit::InsertError::Conflict { with } => {
                    let owner = seen
                        .by_template
                        .get(&(route.host.clone(), route.version.clone(), with.clone()))
                        .and_then(|routes| routes.first())
                        .map(|j| format!(" (routes[{j}])"))
                        .unwrap_or_default();
                    let message =
                        format!("route path `{}` conflicts with `{with}`{owner}", route.path);
                    let help = "the router cannot choose between these templates (e.g. `/{a}` \
                                and `/{b}`, or `/{*rest}` and `/{x}.json`): use the same parameter \
                                name, or distinct static parts";
                    (message, help)
                }
                e => (
                    format!("invalid route path `{}`: {e}", route.path),
                    "see the matchit path syntax",
                ),
            };
            self.error(
                path.span(),
                &format!("routes[{i}].path"),
                message,
                Some(help.to_owned()),
            );
        }
    }
}
