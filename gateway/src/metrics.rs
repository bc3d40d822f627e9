//! Every metric the gateway records, as documented constants (recorded through the `metrics`
//! facade; exported in Prometheus format by the admin listener once an exporter is installed).

/// Counter: config reloads, labelled `result` = `success` | `failure` and `trigger` =
/// `file` | `signal` | `admin`.
pub const CONFIG_RELOADS_TOTAL: &str = "wasmgate_config_reloads_total";

/// Gauge: the generation number of the snapshot being served (1 for the first load).
pub const CONFIG_GENERATION: &str = "wasmgate_config_generation";
