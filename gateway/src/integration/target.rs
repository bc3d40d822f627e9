//! One target of an upstream pool: its connections, whether it may take requests (active
//! health checks, passive outlier ejection), its requests in flight, and its metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderValue, Uri};
use metrics::{Counter, Gauge, Histogram};

use super::balance::Candidates;
use super::pool::ConnectionPool;
use crate::config::OutlierDetection;
use crate::metrics::{
    UPSTREAM_EJECTIONS_TOTAL, UPSTREAM_TARGET_DURATION, UPSTREAM_TARGET_HEALTHY,
    UPSTREAM_TARGET_REQUESTS_TOTAL,
};

/// One backend address of an upstream.
pub(super) struct Target {
    /// The base URL (scheme, authority, base path without a trailing `/`).
    pub(super) base: Uri,
    /// What metrics and the hash ring call it: the base URL, with the address it connects
    /// to for a target DNS discovery found.
    pub(super) label: String,
    /// The `Host` header requests to it carry: the URL's authority.
    pub(super) host: Option<HeaderValue>,
    /// Its share of the traffic.
    pub(super) weight: u32,
    pub(super) pool: Arc<ConnectionPool>,
    /// Requests sent and not yet answered in full.
    pub(super) in_flight: Arc<AtomicU32>,
    /// `false` once active checks failed `unhealthy_threshold` times in a row.
    healthy: AtomicBool,
    outlier: OutlierState,
    metrics: TargetMetrics,
}

/// Passive ejection state, all atomics: tries on one target race each other.
#[derive(Default)]
struct OutlierState {
    consecutive_failures: AtomicU32,
    /// Milliseconds since the upstream's epoch until which the target is ejected (0: never).
    ejected_until_ms: AtomicU64,
    /// Ejections so far; the next one lasts this many + 1 times the base.
    ejections: AtomicU32,
}

struct TargetMetrics {
    ok: Counter,
    failed: Counter,
    duration: Histogram,
    healthy: Gauge,
    ejections: Counter,
}

/// How a try on a target ended, for outlier ejection and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TryOutcome {
    /// A response below 500.
    Answered,
    /// A 5xx response, or no response at all (connect failure, reset, timeout).
    Failed,
}

impl Target {
    /// A target for `base` of upstream `upstream`, called `label`, healthy until checks say
    /// otherwise.
    pub(super) fn new(
        upstream: &str,
        base: Uri,
        label: String,
        weight: u32,
        pool: Arc<ConnectionPool>,
    ) -> Self {
        let name = upstream.to_owned();
        let labels = [("upstream", name.clone()), ("target", label.clone())];
        let requests = |outcome: &'static str| metrics::counter!(UPSTREAM_TARGET_REQUESTS_TOTAL, "upstream" => name.clone(), "target" => label.clone(), "outcome" => outcome);
        let metrics = TargetMetrics {
            ok: requests("answered"),
            failed: requests("failed"),
            duration: metrics::histogram!(UPSTREAM_TARGET_DURATION, &labels),
            healthy: metrics::gauge!(UPSTREAM_TARGET_HEALTHY, &labels),
            ejections: metrics::counter!(UPSTREAM_EJECTIONS_TOTAL, &labels),
        };
        metrics.healthy.set(1.0);
        Target {
            host: base
                .authority()
                .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok()),
            base,
            label,
            weight,
            pool,
            in_flight: Arc::new(AtomicU32::new(0)),
            healthy: AtomicBool::new(true),
            outlier: OutlierState::default(),
            metrics,
        }
    }

    /// Whether the target may take requests at `now_ms` (milliseconds since the upstream's
    /// epoch; 0 when the upstream ejects nothing, which is never before an ejection's end).
    pub(super) fn available_at(&self, now_ms: u64) -> bool {
        self.healthy.load(Ordering::Relaxed)
            && self.outlier.ejected_until_ms.load(Ordering::Relaxed) <= now_ms
    }

    /// Whether the target is ejected at `now_ms`.
    pub(super) fn ejected_at(&self, now_ms: u64) -> bool {
        self.outlier.ejected_until_ms.load(Ordering::Relaxed) > now_ms
    }

    /// Records an active check's verdict; returns `true` when it changed the target's health.
    pub(super) fn set_healthy(&self, healthy: bool) -> bool {
        let changed = self.healthy.swap(healthy, Ordering::Relaxed) != healthy;
        if changed {
            self.metrics.healthy.set(if healthy { 1.0 } else { 0.0 });
        }
        changed
    }

    /// Ends an ejection early, as a passing active health check does (Envoy's
    /// `successful_active_health_check_uneject_host`): the check has just seen the target
    /// answer. Returns whether it was ejected at `now_ms`.
    pub(super) fn uneject(&self, now_ms: u64) -> bool {
        if !self.ejected_at(now_ms) {
            return false;
        }
        self.outlier.ejected_until_ms.store(0, Ordering::Relaxed);
        self.outlier
            .consecutive_failures
            .store(0, Ordering::Relaxed);
        true
    }

    /// Records a try's outcome and how long its response head took.
    pub(super) fn record(&self, outcome: TryOutcome, elapsed: Duration) {
        match outcome {
            TryOutcome::Answered => self.metrics.ok.increment(1),
            TryOutcome::Failed => self.metrics.failed.increment(1),
        }
        self.metrics.duration.record(elapsed.as_secs_f64());
    }

    /// Counts a try's outcome towards ejection. Returns `true` when this failure ejects the
    /// target: `may_eject` says whether the pool can spare one more ejected target.
    pub(super) fn count_for_ejection(
        &self,
        outcome: TryOutcome,
        policy: &OutlierDetection,
        now_ms: u64,
        may_eject: impl FnOnce() -> bool,
    ) -> bool {
        let state = &self.outlier;
        if outcome == TryOutcome::Answered {
            if state.consecutive_failures.load(Ordering::Relaxed) != 0 {
                state.consecutive_failures.store(0, Ordering::Relaxed);
            }
            // A target quiet for a whole maximum ejection since its last one starts over.
            let until = state.ejected_until_ms.load(Ordering::Relaxed);
            if until != 0 && now_ms > until + policy.max_ejection.as_millis() as u64 {
                state.ejections.store(0, Ordering::Relaxed);
            }
            return false;
        }
        let failures = state.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < policy.consecutive_failures || self.ejected_at(now_ms) || !may_eject() {
            return false;
        }
        state.consecutive_failures.store(0, Ordering::Relaxed);
        let n = state.ejections.fetch_add(1, Ordering::Relaxed) + 1;
        let length = policy
            .base_ejection
            .saturating_mul(n)
            .min(policy.max_ejection);
        state
            .ejected_until_ms
            .store(now_ms + length.as_millis() as u64, Ordering::Relaxed);
        self.metrics.ejections.increment(1);
        tracing::warn!(
            target = %self.base,
            ejection_ms = length.as_millis() as u64,
            "upstream target ejected after {failures} failures in a row"
        );
        true
    }
}

/// The clock outlier ejection reads: milliseconds since an upstream was built, never 0.
pub(super) struct Epoch(Instant);

impl Epoch {
    pub(super) fn new() -> Self {
        Epoch(Instant::now())
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64 + 1
    }
}

/// An upstream's targets as the balancer sees them at one instant.
pub(super) struct AtInstant<'a> {
    pub(super) targets: &'a [Arc<Target>],
    pub(super) now_ms: u64,
}

impl Candidates for AtInstant<'_> {
    fn count(&self) -> usize {
        self.targets.len()
    }

    fn available(&self, i: usize) -> bool {
        // A weight of 0 drains a target: it takes no request, not even a retry.
        let target = &self.targets[i];
        target.weight > 0 && target.available_at(self.now_ms)
    }

    fn load(&self, i: usize) -> f64 {
        let target = &self.targets[i];
        f64::from(target.in_flight.load(Ordering::Relaxed)) / f64::from(target.weight.max(1))
    }
}

/// Holds one request in flight on a counter until dropped (with the response body).
#[derive(Debug)]
pub struct InFlight(Arc<AtomicU32>);

impl InFlight {
    /// Counts one more request on `counter`.
    pub(super) fn enter(counter: &Arc<AtomicU32>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        InFlight(counter.clone())
    }

    /// Holds a request `counter` already counted.
    pub(super) fn adopt(counter: &Arc<AtomicU32>) -> Self {
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
