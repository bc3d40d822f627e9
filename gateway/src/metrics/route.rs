//! A route's request metrics as handles: each series is registered with the recorder the first
//! time a request needs it, then updated without a registry look-up or a label allocation.

use std::sync::OnceLock;
use std::time::Duration;

use http::{Method, StatusCode};
use metrics::{Counter, Histogram};

use super::{
    GATEWAY_DURATION, INTEGRATION_DURATION, METHOD_LABELS, REQUEST_DURATION, REQUESTS_TOTAL,
    STATUS_LABELS, method_index, status_index,
};

/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "_unmatched";

/// The request metrics of one route (or of the unmatched requests), built with the snapshot.
pub struct RouteMetrics {
    route: String,
    requests: [[OnceLock<Counter>; STATUS_LABELS.len()]; METHOD_LABELS.len()],
    duration: OnceLock<Histogram>,
    integration: OnceLock<Histogram>,
    gateway: OnceLock<Histogram>,
}

impl RouteMetrics {
    /// The metrics of the route with id `route` (registered lazily: a route that never serves
    /// a request exports no series).
    pub fn new(route: &str) -> Self {
        RouteMetrics {
            route: route.to_owned(),
            requests: Default::default(),
            duration: OnceLock::new(),
            integration: OnceLock::new(),
            gateway: OnceLock::new(),
        }
    }

    /// Records one request: its method, final status, total time and, when the backend was
    /// called, the integration's share.
    pub fn record(
        &self,
        method: &Method,
        status: StatusCode,
        total: Duration,
        integration: Option<Duration>,
    ) {
        let (m, s) = (method_index(method), status_index(status));
        self.requests[m][s]
            .get_or_init(|| {
                metrics::counter!(REQUESTS_TOTAL, "route" => self.route.clone(), "method" => METHOD_LABELS[m], "status" => STATUS_LABELS[s])
            })
            .increment(1);
        self.histogram(&self.duration, REQUEST_DURATION)
            .record(total.as_secs_f64());
        if let Some(integration) = integration {
            self.histogram(&self.integration, INTEGRATION_DURATION)
                .record(integration.as_secs_f64());
        }
        let gateway = total.saturating_sub(integration.unwrap_or_default());
        self.histogram(&self.gateway, GATEWAY_DURATION)
            .record(gateway.as_secs_f64());
    }

    fn histogram<'a>(&self, slot: &'a OnceLock<Histogram>, name: &'static str) -> &'a Histogram {
        slot.get_or_init(|| metrics::histogram!(name, "route" => self.route.clone()))
    }
}
