//! Documents the operator attached to the plugin in the gateway config — a file next to the
//! config, or an `http` URL the gateway fetches and refreshes — such as a JWKS, a JSON Schema
//! or an allow list:
//!
//! ```toml
//! [plugins.jwt.documents]
//! jwks = { url = "http://idp.internal/.well-known/jwks.json", refresh_ms = 300000 }
//! schema = { file = "schemas/order.json" }
//! ```
//!
//! No grant is needed: a plugin only sees what it was given. Each document has a version that
//! increases when its content changes, so a plugin keeps a parsed copy and re-parses only when
//! [`version`] moves:
//!
//! ```
//! use wasmgate_plugin_sdk::documents;
//! # wasmgate_plugin_sdk::testing::set_document("jwks", br#"{"keys":[]}"#);
//! let jwks = documents::get("jwks").unwrap();
//! assert_eq!(documents::version("jwks").unwrap(), jwks.version);
//! ```
//!
//! Natively, tests attach documents with
//! [`testing::set_document`](crate::testing::set_document).

use std::fmt;

use crate::host;

/// One version of a document's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Increases whenever the content changes.
    pub version: u64,
    /// The bytes of the file, or of the last successful fetch.
    pub content: Vec<u8>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentError {
    /// No document of that name is configured for this plugin.
    Unknown(String),
    /// A URL document has not been fetched successfully yet (the last failure's reason).
    Unavailable(String),
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::Unknown(name) => write!(
                f,
                "no document `{name}` is configured for this plugin (add it under \
                 [plugins.<name>.documents])"
            ),
            DocumentError::Unavailable(reason) => write!(f, "document unavailable: {reason}"),
        }
    }
}

impl std::error::Error for DocumentError {}

/// The current content of document `name`.
pub fn get(name: &str) -> Result<Document, DocumentError> {
    host::document_get(name)
}

/// The current version of document `name`, without copying its content.
pub fn version(name: &str) -> Result<u64, DocumentError> {
    host::document_version(name)
}

/// Asks the gateway to fetch URL document `name` again soon, e.g. a JWKS without the `kid` a
/// token names. The gateway rate-limits refreshes; files and unknown names are ignored.
pub fn request_refresh(name: &str) {
    host::document_request_refresh(name);
}
