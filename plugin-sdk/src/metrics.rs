//! The plugin's own Prometheus metrics, exported by the gateway at `GET /metrics`.
//!
//! Needs the `metrics` capability: `grants = ["metrics"]` in the plugin's gateway config. A
//! metric `name` appears as `plugin_<plugin name>_<name>`, so a plugin can neither
//! clobber the gateway's metrics nor another plugin's. Names and label names are
//! `[a-z_][a-z0-9_]*`; a plugin may create at most [`MAX_SERIES_PER_PLUGIN`] label sets of at
//! most [`MAX_LABELS`] labels, so keep label values bounded (a route id, a decision; never a
//! user id or a path). A metric keeps the kind it was first recorded as.
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

pub use wasmgate_plugin_contract::metrics::{
    MAX_LABEL_VALUE_BYTES, MAX_LABELS, MAX_SERIES_PER_PLUGIN, MetricKind, is_valid_name,
};
