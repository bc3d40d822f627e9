//! Retries: which failures a policy retries, the backoff between tries, and the budget that
//! keeps retries a bounded share of an upstream's traffic.

use std::sync::atomic::{AtomicU64, Ordering};
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
/// Counted in one-second buckets, each one atomic word holding its second and its counts: a
/// request costs one clock read and one atomic update; only a retry sums the window. A
/// bucket's reset for a new second and its counts change in one step, so the budget holds
/// exactly even when concurrent requests cross a second's edge.
pub(super) struct RetryBudget {
    settings: RetryBudgetSettings,
    epoch: Instant,
    buckets: [AtomicU64; WINDOW_SECONDS],
}

/// One bucket's word: the second it counts (since the epoch, modulo 2^24), then its requests
/// and its retries (20 bits each, saturating).
#[derive(Clone, Copy)]
struct Bucket {
    second: u64,
    requests: u64,
    retries: u64,
}

const COUNT_BITS: u32 = 20;
const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;
const SECOND_MASK: u64 = (1 << 24) - 1;

impl Bucket {
    fn unpack(word: u64) -> Bucket {
        Bucket {
            second: word >> (2 * COUNT_BITS),
            requests: (word >> COUNT_BITS) & COUNT_MAX,
            retries: word & COUNT_MAX,
        }
    }

    fn pack(self) -> u64 {
        (self.second & SECOND_MASK) << (2 * COUNT_BITS)
            | self.requests.min(COUNT_MAX) << COUNT_BITS
            | self.retries.min(COUNT_MAX)
    }

    /// This bucket as of `second`: itself, or empty when it counted an older second.
    fn at(word: u64, second: u64) -> Bucket {
        let bucket = Bucket::unpack(word);
        if bucket.second == second {
            bucket
        } else {
            Bucket {
                second,
                requests: 0,
                retries: 0,
            }
        }
    }
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
        let now = self.second();
        let _ = self
            .bucket(now)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                let mut bucket = Bucket::at(word, now);
                bucket.requests += 1;
                Some(bucket.pack())
            });
    }

    /// Takes one retry from the budget; `false` when it is spent. The check and the count
    /// are one atomic step on this second's bucket, so that concurrent retries cannot all
    /// slip past the last one allowed.
    pub(super) fn withdraw(&self) -> bool {
        let now = self.second();
        let current = self.bucket(now);
        let (mut earlier_requests, mut earlier_retries) = (0u64, 0u64);
        for bucket in &self.buckets {
            if std::ptr::eq(bucket, current) {
                continue;
            }
            let counted = Bucket::unpack(bucket.load(Ordering::Relaxed));
            if now.wrapping_sub(counted.second) & SECOND_MASK < WINDOW_SECONDS as u64 {
                earlier_requests += counted.requests;
                earlier_retries += counted.retries;
            }
        }
        let floor = u64::from(self.settings.min_per_second) * WINDOW_SECONDS as u64;
        let percent = u64::from(self.settings.percent);
        current
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                let mut bucket = Bucket::at(word, now);
                let by_share = (earlier_requests + bucket.requests) * percent / 100;
                let allowed = by_share.max(floor);
                (earlier_retries + bucket.retries < allowed).then(|| {
                    bucket.retries += 1;
                    bucket.pack()
                })
            })
            .is_ok()
    }

    /// The current second since the epoch (modulo 2^24), offset by a window so that the
    /// zeroed buckets of a new budget count as old.
    fn second(&self) -> u64 {
        (self.epoch.elapsed().as_secs() + WINDOW_SECONDS as u64) & SECOND_MASK
    }

    fn bucket(&self, second: u64) -> &AtomicU64 {
        &self.buckets[second as usize % WINDOW_SECONDS]
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
