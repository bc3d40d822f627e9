//! The `metrics` capability: a plugin's own counters, histograms and gauges, exported with the
//! gateway's at `GET /metrics` as `plugin_<plugin>_<name>`.
//!
//! Bounded: a plugin has at most [`MAX_SERIES_PER_PLUGIN`] label sets and [`MAX_LABELS`] labels
//! per set; a metric name is owned by the first plugin that records it, and keeps its kind.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use wasmgate_plugin_contract::metrics::{MetricKind, check_new_series, kind_mismatch};

use crate::metrics::{PLUGIN_METRICS_REFUSED_TOTAL, PLUGIN_OWN_METRIC_PREFIX};

/// The bounds, shared with the SDK's fake host through the plugin contract.
pub use wasmgate_plugin_contract::metrics::{
    MAX_LABEL_VALUE_BYTES, MAX_LABELS, MAX_SERIES_PER_PLUGIN,
};

/// A plugin's registered series, so a repeated call costs one map lookup.
pub(crate) struct OwnMetrics {
    plugin: String,
    /// `plugin_<plugin>_`.
    prefix: String,
    series: Mutex<HashMap<SeriesKey, Handle>>,
    refused: metrics::Counter,
}

#[derive(PartialEq, Eq, Hash)]
struct SeriesKey {
    name: String,
    labels: Vec<(String, String)>,
}

enum Handle {
    Counter(metrics::Counter),
    Histogram(metrics::Histogram),
    Gauge(metrics::Gauge),
}

impl Handle {
    fn kind(&self) -> MetricKind {
        match self {
            Handle::Counter(_) => MetricKind::Counter,
            Handle::Histogram(_) => MetricKind::Histogram,
            Handle::Gauge(_) => MetricKind::Gauge,
        }
    }
}

impl OwnMetrics {
    /// The metrics of plugin `plugin`.
    pub(crate) fn new(plugin: &str) -> Self {
        OwnMetrics {
            plugin: plugin.to_owned(),
            prefix: format!("{PLUGIN_OWN_METRIC_PREFIX}{}_", plugin.replace('-', "_")),
            series: Mutex::new(HashMap::new()),
            refused: metrics::counter!(PLUGIN_METRICS_REFUSED_TOTAL, "plugin" => plugin.to_owned()),
        }
    }

    /// Records `value` in the series `name{labels}` of kind `kind`.
    pub(crate) fn record(
        &self,
        kind: MetricKind,
        name: &str,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        let result = self.try_record(kind, name, labels, value);
        if result.is_err() {
            self.refused.increment(1);
        }
        result
    }

    fn try_record(
        &self,
        kind: MetricKind,
        name: &str,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        let key = SeriesKey {
            name: name.to_owned(),
            labels,
        };
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        if !series.contains_key(&key) {
            check_new_series(&key.name, &key.labels, series.len())?;
            let full_name = format!("{}{name}", self.prefix);
            claim(name, &full_name, &self.plugin, kind)?;
            let labels: Vec<metrics::Label> = key
                .labels
                .iter()
                .map(|(k, v)| metrics::Label::new(k.clone(), v.clone()))
                .collect();
            let handle = match kind {
                MetricKind::Counter => Handle::Counter(metrics::counter!(full_name, labels)),
                MetricKind::Histogram => Handle::Histogram(metrics::histogram!(full_name, labels)),
                MetricKind::Gauge => Handle::Gauge(metrics::gauge!(full_name, labels)),
            };
            series.insert(
                SeriesKey {
                    name: key.name.clone(),
                    labels: key.labels.clone(),
                },
                handle,
            );
        }
        match series.get(&key) {
            Some(Handle::Counter(counter)) if kind == MetricKind::Counter => {
                counter.increment(value as u64);
            }
            Some(Handle::Histogram(histogram)) if kind == MetricKind::Histogram => {
                histogram.record(value);
            }
            Some(Handle::Gauge(gauge)) if kind == MetricKind::Gauge => gauge.set(value),
            Some(other) => return Err(kind_mismatch(name, other.kind(), kind)),
            None => unreachable!("inserted above"),
        }
        Ok(())
    }
}

/// Records that `plugin` owns `full_name` with `kind`, or says who owns it otherwise.
fn claim(name: &str, full_name: &str, plugin: &str, kind: MetricKind) -> Result<(), String> {
    static OWNERS: OnceLock<Mutex<HashMap<String, (String, MetricKind)>>> = OnceLock::new();
    let mut owners = OWNERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (owner, owned_kind) = owners
        .entry(full_name.to_owned())
        .or_insert_with(|| (plugin.to_owned(), kind));
    if owner != plugin {
        return Err(format!("`{full_name}` already belongs to plugin `{owner}`"));
    }
    if *owned_kind != kind {
        return Err(kind_mismatch(name, *owned_kind, kind));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_names_clashing_kinds_and_foreign_names() {
        let metrics = OwnMetrics::new("own-metrics-test");
        assert!(
            metrics
                .record(MetricKind::Counter, "hits", vec![], 1.0)
                .is_ok()
        );
        let clash = metrics.record(MetricKind::Gauge, "hits", vec![], 1.0);
        assert!(clash.unwrap_err().contains("is a Counter"));
        assert!(
            metrics
                .record(MetricKind::Counter, "Bad-Name", vec![], 1.0)
                .is_err()
        );
        let long = vec![("v".to_owned(), "x".repeat(MAX_LABEL_VALUE_BYTES + 1))];
        assert!(
            metrics
                .record(MetricKind::Counter, "hits", long, 1.0)
                .is_err()
        );
        // `own-metrics_test` and `own-metrics-test` both export `plugin_own_metrics_test_*`.
        let other = OwnMetrics::new("own_metrics-test");
        let stolen = other.record(MetricKind::Counter, "hits", vec![], 1.0);
        assert!(
            stolen
                .unwrap_err()
                .contains("belongs to plugin `own-metrics-test`")
        );
    }

    #[test]
    fn caps_the_label_sets_of_a_plugin() {
        let metrics = OwnMetrics::new("own-metrics-cap");
        for i in 0..MAX_SERIES_PER_PLUGIN {
            let labels = vec![("i".to_owned(), i.to_string())];
            metrics
                .record(MetricKind::Counter, "c", labels, 1.0)
                .unwrap();
        }
        let labels = vec![("i".to_owned(), "one-more".to_owned())];
        let refused = metrics.record(MetricKind::Counter, "c", labels, 1.0);
        assert!(refused.unwrap_err().contains("label sets"));
        // Existing series still record.
        let labels = vec![("i".to_owned(), "0".to_owned())];
        assert!(
            metrics
                .record(MetricKind::Counter, "c", labels, 1.0)
                .is_ok()
        );
    }
}
