//! A call's run-time budget: how long a plugin call may run, not counting the time it spent
//! suspended — yielded to other requests at an epoch tick, then queued behind them on a busy
//! worker. Under overload a plugin is therefore never failed for time it did not run.
//!
//! The epoch callback checks the budget while Wasm runs; a guest parked in a host call (a WASI
//! sleep, the shared store) cannot see an epoch tick, so [`run_within`] arms a wall-clock
//! backstop timer — only then: a call that finishes without parking costs no timer.

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

/// The error that stops a call running past its budget.
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded")]
pub(crate) struct DeadlineExceeded;

/// The budget of the call in progress on one instance, shared by its store's epoch callback
/// and the future driving the call.
#[derive(Debug, Default)]
pub(crate) struct CallBudget {
    /// When the call must end, in nanoseconds since [`origin`]; 0 when no call is armed.
    deadline_ns: AtomicU64,
    /// Set by the epoch callback when it yields: the next suspension is a cooperative yield,
    /// not a guest parked in a host call.
    yielded: AtomicBool,
}

impl CallBudget {
    /// Starts a budget of `limit` from now.
    pub(crate) fn arm(&self, limit: Duration) {
        self.arm_at(Instant::now(), limit);
    }

    /// Starts a budget of `limit` from `start` (a call's start time the caller already read).
    pub(crate) fn arm_at(&self, start: Instant, limit: Duration) {
        let deadline = nanos_since_origin(start).saturating_add(nanos(limit));
        self.deadline_ns.store(deadline.max(1), Ordering::Relaxed);
        self.yielded.store(false, Ordering::Relaxed);
        super::epoch_ticker::keep_ticking_until(deadline);
    }

    /// Ends the budget (between calls nothing is stopped).
    pub(crate) fn disarm(&self) {
        self.deadline_ns.store(0, Ordering::Relaxed);
    }

    /// Whether an armed budget ran out.
    pub(crate) fn exceeded(&self) -> bool {
        let deadline = self.deadline_ns.load(Ordering::Relaxed);
        deadline != 0 && nanos_since_origin(Instant::now()) >= deadline
    }

    /// Records that the epoch callback yields to the runtime.
    pub(crate) fn note_yield(&self) {
        self.yielded.store(true, Ordering::Relaxed);
    }

    /// Gives back time the call spent suspended.
    fn extend(&self, by: Duration) {
        let extended =
            self.deadline_ns
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |deadline| {
                    (deadline != 0).then(|| deadline.saturating_add(nanos(by)))
                });
        if let Ok(before) = extended {
            super::epoch_ticker::keep_ticking_until(before.saturating_add(nanos(by)));
        }
    }

    fn take_yielded(&self) -> bool {
        self.yielded.swap(false, Ordering::Relaxed)
    }
}

/// Drives `call` to its end. Time spent suspended is given back to `budget`; if the guest
/// parks in a host call, a `backstop` timer (wall time from that moment) bounds the wait.
pub(crate) async fn run_within<F: Future>(
    call: F,
    budget: &CallBudget,
    backstop: Duration,
) -> Result<F::Output, DeadlineExceeded> {
    let mut call = pin!(call);
    let mut parked_timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    let mut suspended_at: Option<Instant> = None;
    std::future::poll_fn(|cx| {
        if let Some(at) = suspended_at.take() {
            budget.extend(at.elapsed());
        }
        if let Poll::Ready(output) = call.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if !budget.take_yielded() {
            // Parked in a host call: epoch ticks cannot stop it, the timer will.
            let timer = parked_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(backstop)));
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(DeadlineExceeded));
            }
        }
        suspended_at = Some(Instant::now());
        Poll::Pending
    })
    .await
}

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn nanos_since_origin(at: Instant) -> u64 {
    nanos(at.saturating_duration_since(origin()))
}

/// Now, in nanoseconds since the origin budgets' deadlines are measured from.
pub(super) fn nanos_since_now() -> u64 {
    nanos_since_origin(Instant::now())
}

/// `duration` in nanoseconds, saturating.
pub(super) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_budget_runs_out_and_suspended_time_is_given_back() {
        let budget = CallBudget::default();
        assert!(!budget.exceeded(), "unarmed");
        budget.arm(Duration::ZERO);
        assert!(budget.exceeded());
        budget.extend(Duration::from_secs(60));
        assert!(!budget.exceeded(), "a minute given back");
        budget.disarm();
        budget.extend(Duration::from_secs(60));
        assert!(!budget.exceeded(), "disarmed stays disarmed");
    }

    #[tokio::test]
    async fn a_call_that_never_parks_needs_no_timer_and_completes() {
        let budget = CallBudget::default();
        let out = run_within(async { 7 }, &budget, Duration::ZERO).await;
        assert_eq!(
            out.unwrap(),
            7,
            "a zero backstop never fires for a ready call"
        );
    }

    #[tokio::test]
    async fn a_call_parked_past_the_backstop_is_stopped() {
        let budget = CallBudget::default();
        let parked = tokio::time::sleep(Duration::from_secs(10));
        let out = run_within(parked, &budget, Duration::from_millis(20)).await;
        assert!(out.is_err());
    }

    #[tokio::test]
    async fn time_spent_yielded_is_given_back_and_arms_no_backstop() {
        let budget = CallBudget::default();
        budget.arm(Duration::from_millis(5));
        let mut yielded = false;
        // Yields once the way the epoch callback does, and is woken 30 ms later.
        let yielding = std::future::poll_fn(|cx| {
            if yielded {
                return Poll::Ready("done");
            }
            yielded = true;
            budget.note_yield();
            let waker = cx.waker().clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                waker.wake();
            });
            Poll::Pending
        });
        let out = run_within(yielding, &budget, Duration::from_millis(1)).await;
        assert_eq!(out.unwrap(), "done");
        assert!(
            !budget.exceeded(),
            "the 30 ms spent yielded were given back"
        );
    }
}
