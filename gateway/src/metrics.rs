//! Every metric the gateway records, as documented constants, and the Prometheus recorder they
//! are exported through (`GET /metrics` on the admin listener).
//!
//! Labels are bounded: routes are labelled by route id (`_unmatched` when none matched), never
//! by raw path; methods outside the standard nine are `OTHER`; status codes by class (`2xx`).

mod route;

use std::sync::OnceLock;

pub use route::{RouteMetrics, UNMATCHED_ROUTE};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Counter: requests served, labelled `route`, `method`, `status` (class, e.g. `2xx`).
pub const REQUESTS_TOTAL: &str = "wasmgate_requests_total";

/// Histogram (seconds): from request head received to response head ready, labelled `route`.
pub const REQUEST_DURATION: &str = "wasmgate_request_duration_seconds";

/// Histogram (seconds): the backend call (head), labelled `route`.
pub const INTEGRATION_DURATION: &str = "wasmgate_integration_duration_seconds";

/// Histogram (seconds): time the gateway itself added — total minus integration — labelled
/// `route`.
pub const GATEWAY_DURATION: &str = "wasmgate_gateway_duration_seconds";

/// Counter: gateway responses (errors the gateway answered itself), labelled `type`
/// (e.g. `RESOURCE_NOT_FOUND`, `PLUGIN_FAILURE`, `INTEGRATION_TIMEOUT`).
pub const GATEWAY_RESPONSES_TOTAL: &str = "wasmgate_gateway_responses_total";

/// Counter: failed backend calls, labelled `upstream` and `kind` (`timeout` | `error` |
/// `unavailable`: refused at once by the circuit breaker or for want of an available target).
pub const UPSTREAM_ERRORS_TOTAL: &str = "wasmgate_upstream_errors_total";

/// Counter: requests of a route with a canary, by the side they went to, labelled `route`,
/// `upstream` and `canary` (`true` | `false`).
pub const CANARY_REQUESTS_TOTAL: &str = "wasmgate_canary_requests_total";

/// Counter: requests of a stage with a canary, by the side they went to, labelled `stage` and
/// `canary` (`true` | `false`).
pub const STAGE_CANARY_REQUESTS_TOTAL: &str = "wasmgate_stage_canary_requests_total";

/// Counter: tries sent to one upstream target, labelled `upstream`, `target` (its URL) and
/// `outcome` (`answered`: a response below 500; `failed`: a 5xx or no response).
pub const UPSTREAM_TARGET_REQUESTS_TOTAL: &str = "wasmgate_upstream_target_requests_total";

/// Histogram (seconds): one try's time to the response head (or failure), labelled `upstream`
/// and `target`.
pub const UPSTREAM_TARGET_DURATION: &str = "wasmgate_upstream_target_duration_seconds";

/// Gauge: 1 while a target passes its active health checks (or has none), 0 once it failed
/// them, labelled `upstream` and `target`.
pub const UPSTREAM_TARGET_HEALTHY: &str = "wasmgate_upstream_target_healthy";

/// Counter: passive ejections of a target (consecutive failures), labelled `upstream` and
/// `target`.
pub const UPSTREAM_EJECTIONS_TOTAL: &str = "wasmgate_upstream_ejections_total";

/// Counter: retries sent (tries after the first), labelled `upstream`.
pub const UPSTREAM_RETRIES_TOTAL: &str = "wasmgate_upstream_retries_total";

/// Counter: retries not sent because the upstream's retry budget was spent, labelled
/// `upstream`.
pub const UPSTREAM_RETRY_BUDGET_EXHAUSTED_TOTAL: &str =
    "wasmgate_upstream_retry_budget_exhausted_total";

/// Counter: requests answered 503 without a try, labelled `upstream` and `reason`
/// (`max_requests` or `max_pending`: the circuit breaker; `no_available_target`: every
/// target unhealthy or ejected).
pub const UPSTREAM_UNAVAILABLE_TOTAL: &str = "wasmgate_upstream_unavailable_total";

/// Counter: DNS discovery rounds that failed to resolve a target's host name (the upstream
/// keeps its targets), labelled `upstream`.
pub const UPSTREAM_DNS_FAILURES_TOTAL: &str = "wasmgate_upstream_dns_failures_total";

/// Gauge: connections open to an upstream's targets, labelled `upstream` (only for upstreams
/// with `max_connections`).
pub const UPSTREAM_OPEN_CONNECTIONS: &str = "wasmgate_upstream_open_connections";

/// Gauge: requests waiting for a connection to an upstream (within `max_pending`), labelled
/// `upstream` (only for upstreams with `max_connections`).
pub const UPSTREAM_PENDING_REQUESTS: &str = "wasmgate_upstream_pending_requests";

/// Gauge: open client connections.
pub const ACTIVE_CONNECTIONS: &str = "wasmgate_active_connections";

/// Counter: connections closed as they arrived, labelled `listener` and `reason`
/// (`max_connections`).
pub const CONNECTIONS_REFUSED_TOTAL: &str = "wasmgate_connections_refused_total";

/// Counter: connections closed by the gateway for being too slow or idle, labelled `listener`
/// and `reason` (`idle`: no request in flight for `idle_timeout_ms`; `header_timeout`: a
/// request's headers not received within `header_read_timeout_ms`).
pub const CONNECTIONS_CLOSED_TOTAL: &str = "wasmgate_connections_closed_total";

/// Counter: TLS handshakes that failed, labelled `listener` and `reason` (`timeout`,
/// `client_certificate_missing`, `client_certificate_invalid`, `incompatible` — e.g. an
/// old protocol version —, `not_tls`, `alert_received`, `peer_misbehaved`,
/// `connection_closed` or `error`).
pub const TLS_HANDSHAKE_FAILURES_TOTAL: &str = "wasmgate_tls_handshake_failures_total";

/// Counter: TLS handshakes completed, labelled `listener` and `protocol` (`TLSv1.2`,
/// `TLSv1.3`).
pub const TLS_HANDSHAKES_TOTAL: &str = "wasmgate_tls_handshakes_total";

/// Counter: plugin stage calls, labelled `plugin` and `stage`.
pub const PLUGIN_CALLS_TOTAL: &str = "wasmgate_plugin_calls_total";

/// Histogram (seconds): plugin stage call latency (including waiting for an instance),
/// labelled `plugin` and `stage`.
pub const PLUGIN_CALL_DURATION: &str = "wasmgate_plugin_call_duration_seconds";

/// Counter: failed plugin calls, labelled `plugin`, `stage`, `kind` (`trap` | `deadline` |
/// `memory_cap` | `saturated` | `instantiate` | `invalid_response`) and `policy` (`closed` |
/// `open`).
pub const PLUGIN_FAILURES_TOTAL: &str = "wasmgate_plugin_failures_total";

/// Gauge: initialised instances idle in a plugin's pool, labelled `plugin`.
pub const PLUGIN_INSTANCES_IDLE: &str = "wasmgate_plugin_instances_idle";

/// Gauge: a plugin's instances busy in a call, labelled `plugin`.
pub const PLUGIN_INSTANCES_BUSY: &str = "wasmgate_plugin_instances_busy";

/// Counter: calls that had to wait for a free instance slot, labelled `plugin`.
pub const PLUGIN_POOL_WAITS_TOTAL: &str = "wasmgate_plugin_pool_waits_total";

/// Counter: requests the gateway shed because it was saturated (answered 503
/// `SERVICE_UNAVAILABLE` with `Retry-After`), labelled `reason` (`plugin_saturated`: every
/// instance of a plugin stayed busy past the queue bound) and `plugin`. Shed requests are not
/// plugin failures.
pub const REQUESTS_SHED_TOTAL: &str = "wasmgate_requests_shed_total";

/// Counter: access log lines dropped because the writer fell behind or failed.
pub const ACCESS_LOG_DROPPED_TOTAL: &str = "wasmgate_access_log_dropped_total";

/// Counter: requests written to the `[record]` file.
pub const REQUESTS_RECORDED_TOTAL: &str = "wasmgate_requests_recorded_total";

/// Counter: recorded requests dropped because the writer fell behind or failed.
pub const RECORD_DROPPED_TOTAL: &str = "wasmgate_record_dropped_total";

/// Counter: spans the OTLP collector accepted (`[tracing]`).
pub const TRACE_SPANS_EXPORTED_TOTAL: &str = "wasmgate_trace_spans_exported_total";

/// Counter: spans never exported, labelled `reason` = `queue_full` (the exporter fell behind:
/// spans are dropped rather than making a request wait) | `export_failed` (the collector was
/// unreachable, too slow or refused them, retries included).
pub const TRACE_SPANS_DROPPED_TOTAL: &str = "wasmgate_trace_spans_dropped_total";

/// Counter: config reloads, labelled `result` = `success` | `failure` and `trigger` =
/// `file` | `signal` | `admin`.
pub const CONFIG_RELOADS_TOTAL: &str = "wasmgate_config_reloads_total";

/// Gauge: the generation number of the snapshot being served (1 for the first load).
pub const CONFIG_GENERATION: &str = "wasmgate_config_generation";

/// Counter: shared-store calls that could not be answered (Redis down or too slow), labelled
/// `operation` (`bucket` | `quota` | `kv`) and `outcome` (`allowed`: failed open, `refused`:
/// failed closed, `error`: reported to the plugin, as for every `kv` call).
pub const STORE_UNAVAILABLE_TOTAL: &str = "wasmgate_store_unavailable_total";

/// Gauge: 1 while the shared store is reachable (always 1 for the memory backend), else 0.
pub const STORE_CONNECTED: &str = "wasmgate_store_connected";

/// Counter: fetches of URL documents attached to plugins, labelled `plugin`, `document` and
/// `outcome` (`changed` | `unchanged` | `failed`).
pub const DOCUMENT_FETCHES_TOTAL: &str = "wasmgate_document_fetches_total";

/// Counter: plugin metric calls the gateway refused (invalid name, too many label sets, kind
/// clash), labelled `plugin`.
pub const PLUGIN_METRICS_REFUSED_TOTAL: &str = "wasmgate_plugin_metrics_refused_total";

/// Prefix of every metric a plugin records through the `metrics` capability:
/// `plugin_<plugin>_<name>`, the plugin's name with `-` written `_`. Outside the `wasmgate_`
/// namespace, so a plugin cannot touch a gateway metric; a full name belongs to the first plugin
/// that records it, so two plugins whose names collide after `-` → `_` cannot mix series.
pub const PLUGIN_OWN_METRIC_PREFIX: &str = "plugin_";

/// Buckets of the latency histograms, in seconds (50 µs … 30 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide Prometheus recorder, installed on first use. When the embedding program
/// installed another `metrics` recorder first, the gateway renders an empty page instead.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("non-empty buckets")
        };
        let handle = builder().install_recorder().unwrap_or_else(|error| {
            tracing::warn!(%error, "another metrics recorder is installed; /metrics will be empty");
            builder().build_recorder().handle()
        });
        // Histograms accumulate samples until upkeep folds them in.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("wasmgate-metrics".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start metrics upkeep; histograms fold in at render");
        }
        handle
    })
}

/// Every value of the `method` label, indexed by [`method_index`].
pub const METHOD_LABELS: [&str; 10] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];

/// Every value of the `status` label, indexed by [`status_index`].
pub const STATUS_LABELS: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The position of a request method's label in [`METHOD_LABELS`] (methods outside the
/// standard nine are `OTHER`).
pub fn method_index(method: &http::Method) -> usize {
    match *method {
        http::Method::GET => 0,
        http::Method::POST => 1,
        http::Method::PUT => 2,
        http::Method::DELETE => 3,
        http::Method::PATCH => 4,
        http::Method::HEAD => 5,
        http::Method::OPTIONS => 6,
        http::Method::CONNECT => 7,
        http::Method::TRACE => 8,
        _ => 9,
    }
}

/// The position of a status code's class in [`STATUS_LABELS`].
pub fn status_index(status: http::StatusCode) -> usize {
    match status.as_u16() {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// The bounded label for a request method.
pub fn method_label(method: &http::Method) -> &'static str {
    METHOD_LABELS[method_index(method)]
}

/// The status class label (`2xx` …).
pub fn status_label(status: http::StatusCode) -> &'static str {
    STATUS_LABELS[status_index(status)]
}
