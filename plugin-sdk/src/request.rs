//! The client's request, as a plugin sees and edits it.

use crate::host::RequestHandle;
use crate::{BodyError, EditError};

/// The client's request as it travels through the gateway.
///
/// The data stays in the host: every method is one call into the gateway that copies only what
/// it returns, so read what you need. Editing needs `&mut Request`, which the request-side
/// stages get; the response-side stages get `&Request`. Edits are what the backend (and later
/// plugins) see. Header names are case-insensitive; values are bytes.
pub struct Request<'a> {
    handle: RequestHandle<'a>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(handle: RequestHandle<'a>) -> Self {
        Request { handle }
    }

    /// The HTTP method, e.g. `GET`.
    pub fn method(&self) -> String {
        self.handle.method()
    }

    /// Changes the method the backend sees (an RFC 9110 token, e.g. `POST`).
    pub fn set_method(&mut self, method: &str) -> Result<(), EditError> {
        self.handle.set_method(method)
    }

    /// The path, percent-encoded as received, without the query, e.g. `/v1/orders/42`.
    pub fn path(&self) -> String {
        self.handle.path()
    }

    /// Changes the path the backend sees. It must start with `/` and hold no query (use
    /// [`set_query`](Request::set_query)).
    pub fn set_path(&mut self, path: &str) -> Result<(), EditError> {
        self.handle.set_path(path)
    }

    /// The raw query string without `?`, if any.
    pub fn query(&self) -> Option<String> {
        self.handle.query()
    }

    /// Replaces the raw query string (without `?`); `None` removes it.
    pub fn set_query(&mut self, query: Option<&str>) -> Result<(), EditError> {
        self.handle.set_query(query)
    }

    /// The first value of a query parameter, percent-decoded (`+` is a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.handle.query_param(name)
    }

    /// A path parameter captured by the route template, e.g. `id` in `/orders/{id}`.
    pub fn path_param(&self, name: &str) -> Option<String> {
        self.handle.path_param(name)
    }

    /// All path parameters, in template order.
    pub fn path_params(&self) -> Vec<(String, String)> {
        self.handle.path_params()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.handle.header(name)
    }

    /// The first value of a header as text; `None` when the header is absent **or its value is
    /// not UTF-8** (never lossy, so a check on the text cannot be fooled by invalid bytes).
    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name)
            .and_then(|value| String::from_utf8(value).ok())
    }

    /// Every value of a header, in order (empty when absent).
    pub fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        self.handle.header_values(name)
    }

    /// The distinct header names present, lower-case.
    pub fn header_names(&self) -> Vec<String> {
        self.handle.header_names()
    }

    /// Every header, one `(name, value)` per value (names lower-case; a name's values together,
    /// in order). One host call: prefer it to [`header_names`](Self::header_names) plus a
    /// [`header_values`](Self::header_values) per name when reading many headers.
    pub fn headers(&self) -> Vec<(String, Vec<u8>)> {
        self.handle.headers()
    }

    /// Replaces every value of a header with one value.
    pub fn set_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), EditError> {
        self.handle.set_header(name, value.as_ref())
    }

    /// Adds a value to a header, keeping the existing ones.
    pub fn append_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), EditError> {
        self.handle.append_header(name, value.as_ref())
    }

    /// Removes every value of a header (no error when it is absent).
    pub fn remove_header(&mut self, name: &str) -> Result<(), EditError> {
        self.handle.remove_header(name)
    }

    /// The body. Fails with [`BodyError::NotDeclared`] unless the plugin declared
    /// [`BodyAccess::REQUEST`](crate::BodyAccess::REQUEST).
    pub fn body(&self) -> Result<Vec<u8>, BodyError> {
        self.handle.body()
    }

    /// Replaces the body (the gateway fixes `content-length`).
    pub fn set_body(&mut self, body: impl AsRef<[u8]>) -> Result<(), EditError> {
        self.handle.set_body(body.as_ref())
    }
}
