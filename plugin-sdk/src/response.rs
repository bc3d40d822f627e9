//! The response on its way back to the client, as a plugin sees and edits it.

use crate::host::ResponseHandle;
use crate::{BodyError, EditError};

/// The response on its way back to the client (the backend's, the mock's or a plugin's).
///
/// Same rules as [`Request`](crate::Request): data stays in the host, reads copy only what they
/// return, edits need `&mut Response` (the integration- and method-response stages; the log
/// stage gets `&Response`).
pub struct Response<'a> {
    handle: ResponseHandle<'a>,
}

impl<'a> Response<'a> {
    pub(crate) fn new(handle: ResponseHandle<'a>) -> Self {
        Response { handle }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.handle.status()
    }

    /// Changes the status code (a final one: 200–599).
    pub fn set_status(&mut self, status: u16) -> Result<(), EditError> {
        self.handle.set_status(status)
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.handle.header(name)
    }

    /// The first value of a header as text; `None` when the header is absent **or its value is
    /// not UTF-8** (never lossy).
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
    /// [`BodyAccess::RESPONSE`](crate::BodyAccess::RESPONSE).
    pub fn body(&self) -> Result<Vec<u8>, BodyError> {
        self.handle.body()
    }

    /// Replaces the body (the gateway fixes `content-length`).
    pub fn set_body(&mut self, body: impl AsRef<[u8]>) -> Result<(), EditError> {
        self.handle.set_body(body.as_ref())
    }
}
