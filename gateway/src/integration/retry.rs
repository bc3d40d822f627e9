//! Retries: which failures a policy retries, the backoff between tries, and the budget that
//! keeps retries a bounded share of an upstream's traffic.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use crate::config::{RetryBudgetSettings, RetryPolicy};

/// Why a try got no usable response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TryFailure {
    /// No connection could be made.
    ConnectFailure,
    /// The connection closed before the request was written: the target never saw it.
    Refused,
    /// The connection failed after the request was sent, before the response head.
    Reset,
    /// The try ran past the per-try timeout.
    Timeout,
    /// The response has a status the policy retries.
    Status(StatusCode),
}

impl TryFailure {
    /// Whether `policy` retries this failure.
    pub(super) fn retried_by(self, policy: &RetryPolicy) -> bool {
        let on = &policy.on;
        match self {
            TryFailure::ConnectFailure => on.connect_failure,
            TryFailure::Refused => on.refused_stream,
            TryFailure::Reset => on.reset,
            TryFailure::Timeout => on.timeout,
            TryFailure::Status(status) => on.statuses.contains(&status),
        }
    }
}

/// Whether a request with `method` may be retried: idempotent methods (RFC 9110 §9.2.2)
/// always, others when the route allows it.
pub(super) fn method_retriable(method: &Method, retry_non_idempotent: bool) -> bool {
    retry_non_idempotent || method.is_idempotent()
}

/// How long to wait before retry number `retry` (1 for the first): a uniform draw below
/// `base × 2^(retry-1)`, capped at `max` ("full jitter"), so clients that failed together do
/// not retry together.
pub(super) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let ceiling = policy
        .backoff_base
        .saturating_mul(1 << (retry.saturating_sub(1)).min(16))
        .min(policy.backoff_max);
    let ceiling_us = ceiling.as_micros() as u64;
    if ceiling_us == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros(fastrand::u64(0..=ceiling_us))
}

/// Seconds the budget looks back over.
const WINDOW_SECONDS: usize = 10;

/// The retry budget of one upstream: retries may be `percent` % of the requests of the last
/// [`WINDOW_SECONDS`] seconds, or `min_per_second` per second, whichever is more.
///
/// Counted in one-second buckets of atomics: a request costs one clock read and one atomic
/// add; only a retry sums the window.
pub(super) struct RetryBudget {
    settings: RetryBudgetSettings,
    epoch: Instant,
    buckets: [Bucket; WINDOW_SECONDS],
}

#[derive(Default)]
struct Bucket {
    /// The second (since `epoch`) this bucket counts; an older one is reset on first use.
    second: AtomicU64,
    requests: AtomicU32,
    retries: AtomicU32,
}

impl RetryBudget {
    /// An empty budget.
    pub(super) fn new(settings: RetryBudgetSettings) -> Self {
        RetryBudget {
            settings,
            epoch: Instant::now(),
            buckets: Default::default(),
        }
    }

    /// Counts a request (its first try).
    pub(super) fn deposit(&self) {
        self.current().requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub(super) fn withdraw(&self) -> bool {
        let now = self.second();
        let (mut requests, mut retries) = (0u64, 0u64);
        for bucket in &self.buckets {
            if now.saturating_sub(bucket.second.load(Ordering::Relaxed)) < WINDOW_SECONDS as u64 {
                requests += u64::from(bucket.requests.load(Ordering::Relaxed));
                retries += u64::from(bucket.retries.load(Ordering::Relaxed));
            }
        }
        let by_share = requests * u64::from(self.settings.percent) / 100;
        let floor = u64::from(self.settings.min_per_second) * WINDOW_SECONDS as u64;
        if retries >= by_share.max(floor) {
            return false;
        }
        self.current().retries.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn second(&self) -> u64 {
        // Offset by a window, so that the zeroed buckets of a new budget count as old.
        self.epoch.elapsed().as_secs() + WINDOW_SECONDS as u64
    }

    /// The bucket of this second, reset if it last counted an older second.
    fn current(&self) -> &Bucket {
        let now = self.second();
        let bucket = &self.buckets[now as usize % WINDOW_SECONDS];
        let seen = bucket.second.load(Ordering::Relaxed);
        if seen != now
            && bucket
                .second
                .compare_exchange(seen, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Counts that land between the exchange and these stores are lost: a few
            // requests at a second's edge, which a budget can afford.
            bucket.requests.store(0, Ordering::Relaxed);
            bucket.retries.store(0, Ordering::Relaxed);
        }
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RetryOn;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            on: RetryOn {
                connect_failure: true,
                statuses: vec![StatusCode::SERVICE_UNAVAILABLE],
                ..RetryOn::default()
            },
            per_try_timeout: None,
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(25),
        }
    }

    #[test]
    fn only_the_listed_failures_are_retried() {
        let p = policy();
        assert!(TryFailure::ConnectFailure.retried_by(&p));
        assert!(TryFailure::Status(StatusCode::SERVICE_UNAVAILABLE).retried_by(&p));
        assert!(!TryFailure::Status(StatusCode::BAD_GATEWAY).retried_by(&p));
        assert!(!TryFailure::Reset.retried_by(&p));
        assert!(!TryFailure::Timeout.retried_by(&p));
    }

    #[test]
    fn post_is_retried_only_when_the_route_allows_it() {
        assert!(method_retriable(&Method::GET, false));
        assert!(method_retriable(&Method::PUT, false));
        assert!(!method_retriable(&Method::POST, false));
        assert!(method_retriable(&Method::POST, true));
    }

    #[test]
    fn backoff_doubles_within_its_cap() {
        let p = policy();
        for _ in 0..100 {
            assert!(backoff(&p, 1) <= Duration::from_millis(10));
            assert!(backoff(&p, 2) <= Duration::from_millis(20));
            assert!(backoff(&p, 9) <= Duration::from_millis(25));
        }
    }

    #[test]
    fn the_budget_allows_its_floor_then_its_share() {
        let budget = RetryBudget::new(RetryBudgetSettings {
            percent: 20,
            min_per_second: 1,
        });
        // The floor: 1 per second over the 10-second window.
        assert_eq!((0..20).filter(|_| budget.withdraw()).count(), 10);
        // 100 requests make 20 % = 20 retries in all, 10 of which are taken.
        for _ in 0..100 {
            budget.deposit();
        }
        assert_eq!((0..20).filter(|_| budget.withdraw()).count(), 10);
    }

    #[test]
    fn a_zero_budget_allows_no_retry() {
        let budget = RetryBudget::new(RetryBudgetSettings {
            percent: 0,
            min_per_second: 0,
        });
        budget.deposit();
        assert!(!budget.withdraw());
    }
}
