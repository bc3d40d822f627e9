//! Structured logging into the gateway's own log.
//!
//! The gateway tags every line with the plugin's name, the stage and the request id; add your
//! own key/value fields:
//!
//! ```
//! use wasmgate_plugin_sdk::log;
//! log::info("api key accepted", &[("key-id", "k-42")]);
//! if log::enabled(log::Level::Debug) {
//!     log::debug("expensive detail", &[("state", "…")]);
//! }
//! ```
//!
//! Natively the lines are recorded by the fake host, see
//! [`testing::log_lines`](crate::testing::log_lines).

use std::fmt;

use crate::host;

/// Severity of a log line, from the most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very verbose detail.
    Trace,
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// Something failed.
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        })
    }
}

/// Whether a line at this level would be recorded, so a plugin can skip building it.
pub fn enabled(level: Level) -> bool {
    host::log_enabled(level)
}

/// Records a message with key/value fields at `level`.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    host::log_write(level, message, fields);
}

/// Records a message at [`Level::Trace`].
pub fn trace(message: &str, fields: &[(&str, &str)]) {
    write(Level::Trace, message, fields);
}

/// Records a message at [`Level::Debug`].
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    write(Level::Debug, message, fields);
}

/// Records a message at [`Level::Info`].
pub fn info(message: &str, fields: &[(&str, &str)]) {
    write(Level::Info, message, fields);
}

/// Records a message at [`Level::Warn`].
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    write(Level::Warn, message, fields);
}

/// Records a message at [`Level::Error`].
pub fn error(message: &str, fields: &[(&str, &str)]) {
    write(Level::Error, message, fields);
}
