//! Route matching: host, method and path template, with API version selection by path prefix,
//! header or query parameter.
//!
//! Each host pattern and API version (and the routes for any host, and the unversioned ones)
//! has its own `matchit` tree; a tree maps a path template to the routes registered on it by
//! method. A request is matched against the routes of its exact host first, then those of the
//! wildcard patterns that cover it (the longest first), then the routes for any host: the first
//! of these with a route on the path answers, with the route for the method or 405 (as a
//! virtual host does: a host's routes are not mixed with another's). Within a host, a request
//! whose version was selected is matched against that version's tree first and then against
//! the unversioned routes. When the version comes from a path prefix (`/v2/orders/1`), the
//! prefix is stripped before matching and the backend sees the path without it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use http::{HeaderMap, Method};

use crate::config::{Route, Versioning};

/// The result of matching a request.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// A route matched.
    Found(Matched),
    /// A route has this path but not this method; `allow` lists the methods it has.
    MethodNotAllowed {
        /// The methods registered on the path.
        allow: Vec<Method>,
    },
    /// No route has this path.
    NotFound,
}

/// A matched route and what the match captured.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    /// Index of the route in the config's route list.
    pub route: usize,
    /// Path parameters, percent-decoded, in template order.
    pub params: Vec<(String, String)>,
    /// The API version selected, when the route belongs to one.
    pub version: Option<String>,
    /// The path to send on (the version prefix stripped when it selected the version).
    pub path: String,
}

/// The routes registered on one path template.
#[derive(Debug, Default)]
struct MethodTable {
    by_method: Vec<(Method, usize)>,
    any_method: Option<usize>,
}

impl MethodTable {
    fn get(&self, method: &Method) -> Option<usize> {
        let exact = |wanted: &Method| {
            self.by_method
                .iter()
                .find(|(m, _)| m == wanted)
                .map(|(_, route)| *route)
        };
        exact(method)
            .or(self.any_method)
            // A GET route answers HEAD too (the server sends the head without the body).
            .or_else(|| {
                (method == Method::HEAD)
                    .then(|| exact(&Method::GET))
                    .flatten()
            })
    }

    fn allowed(&self) -> Vec<Method> {
        let mut allowed: Vec<Method> = self.by_method.iter().map(|(m, _)| m.clone()).collect();
        if allowed.contains(&Method::GET) && !allowed.contains(&Method::HEAD) {
            allowed.push(Method::HEAD);
        }
        allowed
    }
}

/// The maps a request is looked up in. Their keys come from config, so a client cannot flood
/// them with colliding keys: a fast hasher, not SipHash.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The trees of one host pattern, by API version (`None`: unversioned).
type VersionTrees = FastMap<Option<String>, matchit::Router<usize>>;

/// All routes of one config, ready to match requests.
#[derive(Debug)]
pub struct Router {
    /// The trees of the routes for any host.
    any_host: VersionTrees,
    /// The trees of the routes that name one host, by host.
    by_host: FastMap<String, VersionTrees>,
    /// The trees of the routes that name a wildcard, by the suffix it covers (`.example.com`
    /// for `*.example.com`): a host's suffixes are looked up, with no scan of the patterns.
    by_wildcard: FastMap<String, VersionTrees>,
    tables: Vec<MethodTable>,
    versions: BTreeSet<String>,
    versioning: Versioning,
}

/// A path template that `matchit` refused (the config layer validates templates, so this only
/// fires for conflicts it could not see).
#[derive(Debug, thiserror::Error)]
#[error("route `{route}`: path `{path}` cannot be registered: {reason}")]
pub struct RouteError {
    /// The route's id.
    pub route: String,
    /// Its path template.
    pub path: String,
    /// Why matchit refused it.
    pub reason: String,
}

impl Router {
    /// Builds the trees for `routes`.
    pub fn new(routes: &[Route], versioning: &Versioning) -> Result<Self, RouteError> {
        let mut router = Router {
            any_host: FastMap::default(),
            by_host: FastMap::default(),
            by_wildcard: FastMap::default(),
            tables: Vec::new(),
            versions: routes.iter().filter_map(|r| r.version.clone()).collect(),
            versioning: versioning.clone(),
        };
        let mut table_of: HashMap<(&Option<String>, &Option<String>, &str), usize> = HashMap::new();
        for (index, route) in routes.iter().enumerate() {
            let key = (&route.host, &route.version, route.path.as_str());
            let table = match table_of.get(&key) {
                Some(table) => *table,
                None => {
                    let table = router.tables.len();
                    router.tables.push(MethodTable::default());
                    let trees = match route.host.as_deref() {
                        Some(host) => match host.strip_prefix('*') {
                            Some(suffix) => router.by_wildcard.entry(suffix.to_owned()),
                            None => router.by_host.entry(host.to_owned()),
                        }
                        .or_default(),
                        None => &mut router.any_host,
                    };
                    trees
                        .entry(route.version.clone())
                        .or_default()
                        .insert(route.path.clone(), table)
                        .map_err(|e| RouteError {
                            route: route.id.clone(),
                            path: route.path.clone(),
                            reason: e.to_string(),
                        })?;
                    table_of.insert(key, table);
                    table
                }
            };
            let methods = &mut router.tables[table];
            if route.methods.is_empty() {
                methods.any_method = Some(index);
            } else {
                for method in &route.methods {
                    methods.by_method.push((method.clone(), index));
                }
            }
        }
        Ok(router)
    }

    /// Matches a request for `host` (the `Host` header or `:authority`, as sent).
    pub fn lookup(
        &self,
        method: &Method,
        path: &str,
        host: Option<&[u8]>,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> RouteMatch {
        let (version, path) = self.select_version(path, headers, query);
        let names_hosts = !self.by_host.is_empty() || !self.by_wildcard.is_empty();
        let host = host.filter(|_| names_hosts).and_then(normalize_host);
        let Some(host) = host.as_deref() else {
            return self.lookup_in_trees(&self.any_host, &version, method, &path);
        };
        // `normalize_host` refuses `*` and empty labels: a request cannot name a pattern.
        let exact = self.by_host.get(host);
        let wildcards = host
            .match_indices('.')
            .filter_map(|(dot, _)| self.by_wildcard.get(&host[dot..]));
        exact
            .into_iter()
            .chain(wildcards)
            .chain([&self.any_host])
            .map(|trees| self.lookup_in_trees(trees, &version, method, &path))
            .find(|result| *result != RouteMatch::NotFound)
            .unwrap_or(RouteMatch::NotFound)
    }

    /// Matches a request against the routes of one host pattern.
    fn lookup_in_trees(
        &self,
        trees: &VersionTrees,
        version: &Option<String>,
        method: &Method,
        path: &str,
    ) -> RouteMatch {
        let mut result = RouteMatch::NotFound;
        if version.is_some() {
            result = self.lookup_in(trees, version, method, path);
        }
        if result == RouteMatch::NotFound {
            result = self.lookup_in(trees, &None, method, path);
        }
        result
    }

    fn lookup_in(
        &self,
        trees: &VersionTrees,
        version: &Option<String>,
        method: &Method,
        path: &str,
    ) -> RouteMatch {
        let Some(tree) = trees.get(version) else {
            return RouteMatch::NotFound;
        };
        let Ok(found) = tree.at(path) else {
            return RouteMatch::NotFound;
        };
        let table = &self.tables[*found.value];
        let Some(route) = table.get(method) else {
            return RouteMatch::MethodNotAllowed {
                allow: table.allowed(),
            };
        };
        let params = found
            .params
            .iter()
            .map(|(name, value)| {
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                (name.to_owned(), decoded.into_owned())
            })
            .collect();
        RouteMatch::Found(Matched {
            route,
            params,
            version: version.clone(),
            path: path.to_owned(),
        })
    }

    /// The version a request asks for — path prefix, then header, then query parameter, then
    /// the configured default — and the path with a version prefix stripped.
    fn select_version(
        &self,
        path: &str,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> (Option<String>, String) {
        if self.versions.is_empty() {
            return (None, path.to_owned());
        }
        let trimmed = path.trim_start_matches('/');
        let first_segment = trimmed.split('/').next().unwrap_or("");
        if self.versions.contains(first_segment) {
            let rest = &trimmed[first_segment.len()..];
            let rest = if rest.is_empty() { "/" } else { rest };
            return (Some(first_segment.to_owned()), rest.to_owned());
        }
        let from_header = headers
            .get(&self.versioning.header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let from_query = || {
            form_urlencoded::parse(query?.as_bytes())
                .find(|(key, _)| *key == self.versioning.query_param)
                .map(|(_, value)| value.into_owned())
        };
        let version = from_header
            .or_else(from_query)
            .or_else(|| self.versioning.default_version.clone());
        (version, path.to_owned())
    }
}

/// The host a request names, as routes name hosts: lower-case, without the port or a trailing
/// dot; `None` when it is not a host name or an IP address (routes for any host still match).
pub fn normalize_host(host: &[u8]) -> Option<Cow<'_, str>> {
    // One pass over the bytes: this runs on every request of a config that names hosts.
    let end = match host.first() {
        // An IPv6 literal keeps its brackets; the port follows the closing one.
        Some(b'[') => host.iter().position(|&b| b == b']')? + 1,
        _ => host.iter().rposition(|&b| b == b':').unwrap_or(host.len()),
    };
    let name = &host[..end];
    let name = name.strip_suffix(b".").unwrap_or(name);
    let (mut label, mut upper) = (0usize, false);
    for &byte in name {
        match byte {
            b'.' if label == 0 => return None,
            b'.' => label = 0,
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'[' | b']' | b':' => label += 1,
            b'A'..=b'Z' => (label, upper) = (label + 1, true),
            _ => return None,
        }
    }
    if label == 0 {
        return None;
    }
    // Only ASCII bytes are left.
    let name = std::str::from_utf8(name).ok()?;
    Some(if upper {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    })
}

/// Resolves `.` and `..` segments (also percent-encoded as `%2e`) the way RFC 3986 §5.2.4
/// does, so `/public/../admin` is routed — and forwarded — as `/admin`, never past a route's
/// plugins to a backend that would normalise it itself.
pub fn normalize_path(path: &str) -> String {
    let has_dot_segment = path.split('/').any(|segment| dots_in(segment) > 0);
    if !path.starts_with('/') || !has_dot_segment {
        return path.to_owned();
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in path[1..].split('/') {
        trailing_slash = false;
        match dots_in(segment) {
            1 => trailing_slash = true,
            2 => {
                kept.pop();
                trailing_slash = true;
            }
            _ => kept.push(segment),
        }
    }
    let mut normalized = format!("/{}", kept.join("/"));
    if trailing_slash && !normalized.ends_with('/') {
        normalized.push('/');
    }
    normalized
}

/// 1 for a `.` segment, 2 for `..`, each dot plain or percent-encoded (`%2e`, any case); 0 for
/// any other segment. Checked on every request's path, so it reads bytes and allocates nothing.
fn dots_in(segment: &str) -> usize {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
        } else {
            return 0;
        }
        dots += 1;
    }
    if dots <= 2 { dots } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Integration, MockResponse};

    fn route(id: &str, methods: &[&str], path: &str, version: Option<&str>) -> Route {
        Route {
            id: id.into(),
            methods: methods.iter().map(|m| m.parse().unwrap()).collect(),
            host: None,
            path: path.into(),
            version: version.map(Into::into),
            plugins: vec![],
            integration: Integration::Mock(MockResponse {
                status: http::StatusCode::OK,
                headers: vec![],
                body: bytes::Bytes::new(),
            }),
            deprecation: None,
        }
    }

    fn hosted(id: &str, methods: &[&str], host: &str, path: &str) -> Route {
        Route {
            host: Some(host.into()),
            ..route(id, methods, path, None)
        }
    }

    fn host_router() -> Router {
        let routes = [
            route("any-host", &["GET"], "/orders", None),
            hosted("api", &["GET"], "api.example.com", "/orders"),
            hosted("api-post", &["POST"], "api.example.com", "/orders/new"),
            hosted("tenants", &["GET"], "*.example.com", "/orders"),
            hosted("eu-tenants", &["GET"], "*.eu.example.com", "/orders"),
            hosted("only-here", &["GET"], "*.example.com", "/tenant-info"),
        ];
        Router::new(&routes, &versioning()).unwrap()
    }

    fn for_host(method: Method, path: &str, host: &str) -> RouteMatch {
        host_router().lookup(
            &method,
            path,
            Some(host.as_bytes()),
            &HeaderMap::new(),
            None,
        )
    }

    #[test]
    fn an_exact_host_comes_before_wildcards_and_wildcards_before_any_host() {
        let route_of = |path, host| found(for_host(Method::GET, path, host)).route;
        assert_eq!(route_of("/orders", "api.example.com"), 1);
        assert_eq!(
            route_of("/orders", "API.Example.com:8443"),
            1,
            "case and port"
        );
        assert_eq!(route_of("/orders", "api.example.com."), 1, "a trailing dot");
        assert_eq!(route_of("/orders", "acme.example.com"), 3);
        assert_eq!(route_of("/orders", "a.b.example.com"), 3, "any depth");
        assert_eq!(
            route_of("/orders", "acme.eu.example.com"),
            4,
            "the longest wildcard"
        );
        assert_eq!(
            route_of("/orders", "example.com"),
            0,
            "a wildcard skips the apex"
        );
        assert_eq!(route_of("/orders", "other.test"), 0);
        assert_eq!(route_of("/orders", "[::1]:8080"), 0);
        let no_host = host_router().lookup(&Method::GET, "/orders", None, &HeaderMap::new(), None);
        assert_eq!(found(no_host).route, 0);
    }

    #[test]
    fn a_hosts_routes_are_not_served_to_other_hosts() {
        assert_eq!(
            found(for_host(Method::GET, "/tenant-info", "x.example.com")).route,
            5
        );
        assert_eq!(
            for_host(Method::GET, "/tenant-info", "other.test"),
            RouteMatch::NotFound
        );
        assert_eq!(
            for_host(Method::GET, "/tenant-info", "example.com"),
            RouteMatch::NotFound
        );
    }

    #[test]
    fn the_first_host_with_the_path_answers_even_with_405() {
        assert_eq!(
            for_host(Method::DELETE, "/orders", "api.example.com"),
            RouteMatch::MethodNotAllowed {
                allow: vec![Method::GET, Method::HEAD]
            }
        );
        assert_eq!(
            for_host(Method::GET, "/orders/new", "api.example.com"),
            RouteMatch::MethodNotAllowed {
                allow: vec![Method::POST]
            }
        );
    }

    #[test]
    fn hosts_are_normalised_or_ignored() {
        assert_eq!(
            normalize_host(b"Api.Example.COM:80").as_deref(),
            Some("api.example.com")
        );
        assert_eq!(normalize_host(b"[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(normalize_host(b"127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(normalize_host(b"*.example.com"), None);
        assert_eq!(normalize_host(b"a b"), None);
        assert_eq!(normalize_host(b"a..example.com"), None);
        assert_eq!(normalize_host(b".example.com"), None);
        assert_eq!(normalize_host(b""), None);
        assert_eq!(normalize_host(b"\xff"), None);
    }

    fn versioning() -> Versioning {
        Versioning {
            header: http::HeaderName::from_static("x-api-version"),
            query_param: "version".into(),
            default_version: None,
        }
    }

    fn router() -> Router {
        let routes = [
            route("get-order", &["GET"], "/orders/{id}", None),
            route("put-order", &["PUT"], "/orders/{id}", None),
            route("v2-order", &["GET"], "/orders/{id}", Some("v2")),
            route("anything", &[], "/any", None),
        ];
        Router::new(&routes, &versioning()).unwrap()
    }

    fn found(m: RouteMatch) -> Matched {
        match m {
            RouteMatch::Found(m) => m,
            other => panic!("expected a match, got {other:?}"),
        }
    }

    #[test]
    fn captures_percent_decoded_path_params() {
        let m =
            found(router().lookup(&Method::GET, "/orders/a%20b", None, &HeaderMap::new(), None));
        assert_eq!(m.route, 0);
        assert_eq!(m.params, vec![("id".to_owned(), "a b".to_owned())]);
    }

    #[test]
    fn wrong_method_is_method_not_allowed_listing_the_allowed_ones() {
        let m = router().lookup(&Method::DELETE, "/orders/1", None, &HeaderMap::new(), None);
        assert_eq!(
            m,
            RouteMatch::MethodNotAllowed {
                allow: vec![Method::GET, Method::PUT, Method::HEAD]
            }
        );
    }

    #[test]
    fn unknown_path_is_not_found() {
        let m = router().lookup(&Method::GET, "/nope", None, &HeaderMap::new(), None);
        assert_eq!(m, RouteMatch::NotFound);
    }

    #[test]
    fn route_without_methods_matches_any_method() {
        let m = found(router().lookup(&Method::PATCH, "/any", None, &HeaderMap::new(), None));
        assert_eq!(m.route, 3);
    }

    #[test]
    fn version_from_path_prefix_is_stripped() {
        let m = found(router().lookup(&Method::GET, "/v2/orders/7", None, &HeaderMap::new(), None));
        assert_eq!(
            (m.route, m.version.as_deref(), m.path.as_str()),
            (2, Some("v2"), "/orders/7")
        );
    }

    #[test]
    fn version_from_header_and_from_query() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-version", "v2".parse().unwrap());
        assert_eq!(
            found(router().lookup(&Method::GET, "/orders/7", None, &headers, None)).route,
            2
        );
        let m = router().lookup(
            &Method::GET,
            "/orders/7",
            None,
            &HeaderMap::new(),
            Some("version=v2"),
        );
        assert_eq!(found(m).route, 2);
    }

    #[test]
    fn unversioned_routes_answer_when_the_version_has_no_match() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-version", "v2".parse().unwrap());
        assert_eq!(
            found(router().lookup(&Method::GET, "/any", None, &headers, None)).route,
            3
        );
    }

    #[test]
    fn a_get_route_answers_head() {
        let m = found(router().lookup(&Method::HEAD, "/orders/1", None, &HeaderMap::new(), None));
        assert_eq!(m.route, 0);
    }

    #[test]
    fn version_prefix_after_repeated_slashes_is_stripped() {
        let m =
            found(router().lookup(&Method::GET, "//v2/orders/7", None, &HeaderMap::new(), None));
        assert_eq!((m.route, m.path.as_str()), (2, "/orders/7"));
    }

    #[test]
    fn dot_segments_are_resolved_before_routing() {
        assert_eq!(normalize_path("/public/../admin/x"), "/admin/x");
        assert_eq!(normalize_path("/public/%2E%2e/admin"), "/admin");
        assert_eq!(normalize_path("/a/./b/."), "/a/b/");
        assert_eq!(normalize_path("/../../etc"), "/etc");
        assert_eq!(normalize_path("/files/v1.2/x..y"), "/files/v1.2/x..y");
    }

    #[test]
    fn only_one_or_two_dots_plain_or_encoded_make_a_dot_segment() {
        for (segment, dots) in [
            (".", 1),
            ("%2E", 1),
            ("..", 2),
            (".%2e", 2),
            ("%2e%2E", 2),
            ("...", 0),
            ("%2e%2e%2e", 0),
            ("", 0),
            (".a", 0),
            ("%2", 0),
            ("%2f", 0),
        ] {
            assert_eq!(dots_in(segment), dots, "{segment:?}");
        }
        assert_eq!(normalize_path("/a/.../b"), "/a/.../b");
        assert_eq!(normalize_path("/a/%2E%2E%2e/b"), "/a/%2E%2E%2e/b");
    }
}
