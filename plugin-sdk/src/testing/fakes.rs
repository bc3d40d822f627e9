//! The in-memory request, response and context a test hands to a plugin, and reads back.

use std::collections::BTreeMap;
use std::fmt;

use crate::context::{CLIENT_IP, REQUEST_ID, ROUTE_ID};

/// Headers held by the fake host: lower-case names, in order, names may repeat.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FakeHeaders(Vec<(String, Vec<u8>)>);

impl FakeHeaders {
    /// The first value of a header (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).into_iter().next()
    }

    /// The first value of a header, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Every value of a header, in order.
    pub fn get_all(&self, name: &str) -> Vec<&[u8]> {
        let name = name.to_ascii_lowercase();
        self.0
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// Whether the header is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The distinct names present, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// Every `(name, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// The number of `(name, value)` pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn append(&mut self, name: &str, value: &[u8]) {
        self.0.push((name.to_ascii_lowercase(), value.to_vec()));
    }

    pub(crate) fn set(&mut self, name: &str, value: &[u8]) {
        self.remove(name);
        self.append(name, value);
    }

    pub(crate) fn remove(&mut self, name: &str) {
        let name = name.to_ascii_lowercase();
        self.0.retain(|(n, _)| *n != name);
    }
}

impl fmt::Debug for FakeHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(name, value)| (name, String::from_utf8_lossy(value))),
            )
            .finish()
    }
}

/// A request held by the fake host. Build it, hand it to a stage runner such as
/// [`testing::method_request`](super::method_request), then read the plugin's edits back.
///
/// ```
/// # use wasmgate_plugin_sdk::testing::FakeRequest;
/// let request = FakeRequest::new("GET", "/v1/orders/42?expand=items")
///     .header("x-api-key", "k")
///     .path_param("id", "42")
///     .body("{}");
/// assert_eq!(request.path(), "/v1/orders/42");
/// assert_eq!(request.query(), Some("expand=items"));
/// ```
#[derive(Debug, Clone)]
pub struct FakeRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) path_params: Vec<(String, String)>,
    pub(crate) headers: FakeHeaders,
    pub(crate) body: Vec<u8>,
    pub(crate) body_cap: Option<u64>,
}

impl FakeRequest {
    /// A request with this method and path; a `?query` suffix of the path becomes the query.
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path_and_query, None),
        };
        FakeRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            path_params: Vec::new(),
            headers: FakeHeaders::default(),
            body: Vec::new(),
            body_cap: None,
        }
    }

    /// Adds a header value (names may repeat).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.append(name, value.as_ref());
        self
    }

    /// Adds a path parameter, as the route template would capture it.
    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.path_params.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the gateway's body buffering cap: reading a larger body fails with
    /// [`BodyError::TooLarge`](crate::BodyError::TooLarge).
    pub fn body_cap(mut self, cap: u64) -> Self {
        self.body_cap = Some(cap);
        self
    }

    /// The method (after the plugin's edits).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The headers.
    pub fn headers(&self) -> &FakeHeaders {
        &self.headers
    }

    /// The first value of a header, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get_str(name)
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body, if it is UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// A response held by the fake host (the backend's answer, as the response-side stages see it).
///
/// ```
/// # use wasmgate_plugin_sdk::testing::FakeResponse;
/// let response = FakeResponse::new(200).header("server", "nginx").body("ok");
/// assert_eq!(response.header_str("Server"), Some("nginx"));
/// ```
#[derive(Debug, Clone)]
pub struct FakeResponse {
    pub(crate) status: u16,
    pub(crate) headers: FakeHeaders,
    pub(crate) body: Vec<u8>,
    pub(crate) body_cap: Option<u64>,
}

impl FakeResponse {
    /// A response with this status, no headers and no body.
    pub fn new(status: u16) -> Self {
        FakeResponse {
            status,
            headers: FakeHeaders::default(),
            body: Vec::new(),
            body_cap: None,
        }
    }

    /// Adds a header value (names may repeat).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.append(name, value.as_ref());
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the gateway's body buffering cap: reading a larger body fails with
    /// [`BodyError::TooLarge`](crate::BodyError::TooLarge).
    pub fn body_cap(mut self, cap: u64) -> Self {
        self.body_cap = Some(cap);
        self
    }

    /// The status (after the plugin's edits).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &FakeHeaders {
        &self.headers
    }

    /// The first value of a header, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get_str(name)
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body, if it is UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// A context bag held by the fake host, pre-filled like the gateway's:
/// `gateway.request-id` = [`FakeContext::REQUEST_ID`], `gateway.route-id` = `test-route`,
/// `gateway.client-ip` = `127.0.0.1` (no `gateway.api-version`).
///
/// Test setup may set any key, `gateway.` ones included; plugins cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeContext {
    pub(crate) entries: BTreeMap<String, String>,
}

impl FakeContext {
    /// The pre-filled `gateway.request-id`.
    pub const REQUEST_ID: &'static str = "test-request-id";

    /// A context pre-filled with the gateway's keys.
    pub fn new() -> Self {
        let entries = [
            (REQUEST_ID, Self::REQUEST_ID),
            (ROUTE_ID, "test-route"),
            (CLIENT_IP, "127.0.0.1"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
        FakeContext { entries }
    }

    /// Sets a key (any key, `gateway.` ones included), as an earlier plugin or the gateway would.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.entries.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Removes a key (any key, `gateway.` ones included).
    pub fn without(mut self, key: &str) -> Self {
        self.entries.remove(key);
        self
    }

    /// The value under a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Every `(key, value)` pair, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

impl Default for FakeContext {
    fn default() -> Self {
        FakeContext::new()
    }
}
