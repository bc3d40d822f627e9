//! The plugin's own Prometheus metrics, exported by the gateway at `GET /metrics`.
//!
//! Needs the `metrics` capability: `grants = ["metrics"]` in the plugin's gateway config. A
//! metric `name` appears as `plugin_<plugin name>_<name>`, so a plugin can neither
//! clobber the gateway's metrics nor another plugin's. Names and label names are
//! `[a-z_][a-z0-9_]*`; the gateway caps the number of label sets per plugin, so keep label
//! values bounded (a route id, a decision; never a user id or a path).
//!
//! ```
//! use wasmgate_plugin_sdk::metrics;
//! metrics::counter_add("tokens_checked", &[("result", "valid")], 1).unwrap();
//! metrics::histogram_record("token_age_seconds", &[], 42.0).unwrap();
//! ```
//!
//! Natively the fake host records each call, see
//! [`testing::recorded_metrics`](crate::testing::recorded_metrics).

use crate::host;

/// Adds `value` to a counter.
pub fn counter_add(name: &str, labels: &[(&str, &str)], value: u64) -> Result<(), String> {
    host::metric(MetricKind::Counter, name, labels, value as f64)
}

/// Records one observation in a histogram.
pub fn histogram_record(name: &str, labels: &[(&str, &str)], value: f64) -> Result<(), String> {
    host::metric(MetricKind::Histogram, name, labels, value)
}

/// Sets a gauge.
pub fn gauge_set(name: &str, labels: &[(&str, &str)], value: f64) -> Result<(), String> {
    host::metric(MetricKind::Gauge, name, labels, value)
}

/// The kind of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonically increasing count.
    Counter,
    /// A distribution of observations.
    Histogram,
    /// A value that goes up and down.
    Gauge,
}

/// Whether `name` is a valid metric or label name: `[a-z_][a-z0-9_]*`, at most 64 bytes.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
