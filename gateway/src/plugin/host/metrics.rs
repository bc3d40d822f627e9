//! `interface metrics` of the contract: the plugin's own counters, histograms and gauges,
//! exported with the gateway's. Needs the `metrics` grant.

use wasmgate_plugin_sdk::metrics::MetricKind;

use super::HostState;
use crate::config::Capability;
use crate::plugin::bindings::metrics;

impl HostState {
    fn record_metric(
        &mut self,
        kind: MetricKind,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        if !self.capabilities.granted(Capability::Metrics) {
            let plugin = &self.capabilities.plugin;
            return Err(format!("plugin `{plugin}` was not granted `metrics`"));
        }
        self.capabilities.metrics.record(kind, &name, labels, value)
    }
}

impl metrics::Host for HostState {
    fn counter_add(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: u64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Counter, name, labels, value as f64)
    }

    fn histogram_record(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Histogram, name, labels, value)
    }

    fn gauge_set(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Gauge, name, labels, value)
    }
}
