//! The connection side of an upstream's circuit breaker: at most `max_connections` open to
//! its targets at once, and at most `max_pending` requests waiting for one of them.
//!
//! A request that finds no idle connection to its target and no room for a new one waits —
//! one of the pending — until a connection to its target comes back idle or one anywhere in
//! the upstream closes. Beyond `max_pending` waiting, a request is refused at once (503),
//! as Envoy's `max_pending_requests` does. Connections idle at other targets hold slots a
//! waiting request could use, so each wait closes the longest-idle one of them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use metrics::Gauge;
use tokio::sync::Notify;

use super::pool::ConnectionPool;
use crate::metrics::{UPSTREAM_OPEN_CONNECTIONS, UPSTREAM_PENDING_REQUESTS};

/// The limits of one upstream, shared by its targets' connection pools.
pub(super) struct ConnectionLimit {
    max_connections: u32,
    max_pending: u32,
    open: AtomicU32,
    pending: AtomicU32,
    /// Woken when a connection closes or goes back idle while requests wait.
    freed: Notify,
    /// The upstream's pools, for closing an idle connection at another target (replaced
    /// when DNS discovery changes the targets).
    pools: Mutex<Vec<Weak<ConnectionPool>>>,
    open_gauge: Gauge,
    pending_gauge: Gauge,
}

/// One open connection's place within the limit; the place frees when it is dropped, with
/// the connection's task.
pub(super) struct Slot(Arc<ConnectionLimit>);

/// One request waiting for a connection; it stops counting when dropped.
pub(super) struct Pending<'a>(&'a ConnectionLimit);

impl ConnectionLimit {
    /// Limits for the upstream named `upstream`.
    pub(super) fn new(upstream: &str, max_connections: u32, max_pending: u32) -> Arc<Self> {
        let open_gauge =
            metrics::gauge!(UPSTREAM_OPEN_CONNECTIONS, "upstream" => upstream.to_owned());
        let pending_gauge =
            metrics::gauge!(UPSTREAM_PENDING_REQUESTS, "upstream" => upstream.to_owned());
        // Added to, never set: after a reload the old upstream's connections still count
        // until they close.
        open_gauge.increment(0.0);
        pending_gauge.increment(0.0);
        Arc::new(ConnectionLimit {
            max_connections,
            max_pending,
            open: AtomicU32::new(0),
            pending: AtomicU32::new(0),
            freed: Notify::new(),
            pools: Mutex::new(Vec::new()),
            open_gauge,
            pending_gauge,
        })
    }

    /// Tells the limit which pools share it (when the upstream is built, and whenever its
    /// targets change).
    pub(super) fn share_with(&self, pools: Vec<Weak<ConnectionPool>>) {
        *self.pools.lock().unwrap_or_else(|e| e.into_inner()) = pools;
    }

    /// A place for one more connection, unless `max_connections` are open (the check and
    /// the count are one atomic step).
    pub(super) fn try_open(self: &Arc<Self>) -> Option<Slot> {
        count_one_below(&self.open, self.max_connections).then_some(())?;
        self.open_gauge.increment(1.0);
        Some(Slot(self.clone()))
    }

    /// Counts a request as waiting for a connection, unless `max_pending` already are.
    pub(super) fn enter_pending(&self) -> Option<Pending<'_>> {
        count_one_below(&self.pending, self.max_pending).then_some(())?;
        self.pending_gauge.increment(1.0);
        Some(Pending(self))
    }

    /// The notification a waiting request awaits: create it (and `enable` it) before
    /// looking for a connection, so that one freed in between is not missed.
    pub(super) fn freed(&self) -> tokio::sync::futures::Notified<'_> {
        self.freed.notified()
    }

    /// Wakes the waiting requests, if any: a connection went back idle or closed.
    pub(super) fn wake_waiting(&self) {
        if self.pending.load(Ordering::Acquire) > 0 {
            self.freed.notify_waiters();
        }
    }

    /// Closes the longest-idle connection of a pool other than `except`, so that its slot
    /// frees (when its task ends, which wakes the waiting); `false` when none is idle.
    pub(super) fn close_idle_elsewhere(&self, except: &ConnectionPool) -> bool {
        // Upgraded first: a pool is not dropped with the lock held.
        let pools: Vec<Arc<ConnectionPool>> = {
            let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools.iter().filter_map(Weak::upgrade).collect()
        };
        pools
            .into_iter()
            .filter(|pool| !std::ptr::eq(&**pool, except))
            .any(|pool| pool.close_longest_idle())
    }
}

/// Adds one to `counter` unless it already reads `max`, in one atomic step (so that
/// concurrent callers cannot all slip past the limit); whether it did.
pub(super) fn count_one_below(counter: &AtomicU32, max: u32) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .is_ok()
}

impl Drop for Slot {
    fn drop(&mut self) {
        let limit = &self.0;
        limit.open.fetch_sub(1, Ordering::AcqRel);
        limit.open_gauge.decrement(1.0);
        limit.wake_waiting();
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::AcqRel);
        self.0.pending_gauge.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_pending_places_are_bounded_and_freed_on_drop() {
        let limit = ConnectionLimit::new("t", 2, 1);
        let a = limit.try_open().expect("first");
        let _b = limit.try_open().expect("second");
        assert!(limit.try_open().is_none(), "a third is beyond the limit");
        drop(a);
        assert!(limit.try_open().is_some(), "a dropped slot is free again");

        let waiting = limit.enter_pending().expect("one may wait");
        assert!(limit.enter_pending().is_none(), "a second may not");
        drop(waiting);
        assert!(limit.enter_pending().is_some());
    }
}
