//! The errors of the plugin contract: why `init` refused, why an edit or a body read failed.

use std::fmt;

/// Why [`Plugin::init`](crate::Plugin::init) refused to start. The gateway fails the load (or
/// the reload) with this message and the plugin's config path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitError {
    /// The configuration is wrong. The message names the key and says how to fix it; build it
    /// with [`InitError::invalid_config`] for the usual ``"`key.path`: what is wrong"`` shape.
    InvalidConfig(String),
    /// Anything else that stops the plugin from starting.
    Failed(String),
}

impl InitError {
    /// An [`InitError::InvalidConfig`] about the value at `key_path` (dotted, relative to the
    /// plugin's config, e.g. `limits.burst`; empty for the config as a whole).
    ///
    /// ```
    /// # use wasmgate_plugin_sdk::InitError;
    /// let err = InitError::invalid_config("request.set", "invalid header name `x y`");
    /// assert_eq!(err, InitError::InvalidConfig("`request.set`: invalid header name `x y`".into()));
    /// ```
    pub fn invalid_config(key_path: &str, message: impl fmt::Display) -> Self {
        if key_path.is_empty() {
            InitError::InvalidConfig(message.to_string())
        } else {
            InitError::InvalidConfig(format!("`{key_path}`: {message}"))
        }
    }

    /// An [`InitError::Failed`] with this message.
    pub fn failed(message: impl fmt::Display) -> Self {
        InitError::Failed(message.to_string())
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::InvalidConfig(message) => write!(f, "invalid config: {message}"),
            InitError::Failed(message) => write!(f, "failed to start: {message}"),
        }
    }
}

impl std::error::Error for InitError {}

/// Why the host refused an edit of the request, the response or the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The stage does not allow this edit (the log stage, request edits after the backend call,
    /// or a `gateway.` context key).
    ReadOnly,
    /// The value is not acceptable (an invalid header name or value, method, path or status).
    Invalid(String),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::ReadOnly => f.write_str("read-only at this stage"),
            EditError::Invalid(message) => write!(f, "invalid edit: {message}"),
        }
    }
}

impl std::error::Error for EditError {}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The plugin did not declare this body in [`Plugin::body_access`](crate::Plugin::body_access).
    NotDeclared,
    /// The body is larger than the gateway's buffering cap (the cap in bytes).
    TooLarge(u64),
    /// The body could not be read from the client or the backend.
    Unavailable(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::NotDeclared => {
                f.write_str("body access not declared (see `Plugin::body_access`)")
            }
            BodyError::TooLarge(cap) => write!(f, "body larger than the {cap}-byte buffering cap"),
            BodyError::Unavailable(message) => write!(f, "body unavailable: {message}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Why the shared store behind [`rate_limit`](crate::rate_limit) and [`kv`](crate::kv) could
/// not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The backend (e.g. Redis) did not answer in time or refused. For rate limits and quotas
    /// the gateway has already applied its fail-open policy: this error means "fail closed", and
    /// a plugin usually answers 503.
    Unavailable(String),
    /// The arguments were refused (an empty key, a zero rate, a value over the size cap …).
    Invalid(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(message) => write!(f, "store unavailable: {message}"),
            StoreError::Invalid(message) => write!(f, "invalid store call: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}
