//! The header rules the gateway applies to edits (the contract's, shared with the gateway), for
//! validating header names in a plugin's config at `init` instead of failing on every request.
//!
//! ```
//! use wasmgate_plugin_sdk::header::{is_managed, is_valid_name};
//! assert!(is_valid_name("x-api-key"));
//! assert!(!is_valid_name("x api key") && !is_valid_name(""));
//! assert!(is_managed("Content-Length"), "the gateway owns message framing");
//! ```

pub use wasmgate_plugin_contract::headers::{MANAGED, is_managed, is_valid_name, is_valid_value};
