//! A route's request metrics as handles: each series is registered with the recorder the first
//! time a request needs it, then updated without a registry look-up or a label allocation.

use std::sync::OnceLock;
use std::time::Duration;

use http::{Method, StatusCode};
use metrics::{Counter, Histogram, Label};

use super::{
    GATEWAY_DURATION, INTEGRATION_DURATION, METHOD_LABELS, REQUEST_DURATION, REQUESTS_TOTAL,
    STATUS_LABELS, method_index, status_index,
};

/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "_unmatched";

/// The request metrics of one route (or of the unmatched requests), built with the snapshot.
pub struct RouteMetrics {
    route: String,
    stage: Option<String>,
    requests: [[OnceLock<Counter>; STATUS_LABELS.len()]; METHOD_LABELS.len()],
    duration: OnceLock<Histogram>,
    integration: OnceLock<Histogram>,
    gateway: OnceLock<Histogram>,
}

impl RouteMetrics {
    /// The metrics of the route with id `route` in stage `stage` (registered lazily: a route
    /// that never serves a request exports no series). Series of a route in a stage have a
    /// `stage` label too.
    pub fn new(route: &str, stage: Option<&str>) -> Self {
        RouteMetrics {
            route: route.to_owned(),
            stage: stage.map(str::to_owned),
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
                let mut labels = vec![
                    Label::new("route", self.route.clone()),
                    Label::from_static_parts("method", METHOD_LABELS[m]),
                    Label::from_static_parts("status", STATUS_LABELS[s]),
                ];
                labels.extend(self.stage_label());
                metrics::counter!(REQUESTS_TOTAL, labels)
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
        slot.get_or_init(|| {
            let mut labels = vec![Label::new("route", self.route.clone())];
            labels.extend(self.stage_label());
            metrics::histogram!(name, labels)
        })
    }

    fn stage_label(&self) -> Option<Label> {
        let stage = self.stage.as_ref()?;
        Some(Label::new("stage", stage.clone()))
    }
}
