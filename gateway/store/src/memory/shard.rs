//! One shard of the memory store: the state of the keys that hash to it, behind one mutex.
//! Every operation is a short, allocation-light critical section that never awaits.

use std::collections::HashMap;

use wasmgate_plugin_contract::rate_limit::{
    Bucket, BucketDecision, QuotaDecision, Window, algorithm,
};

/// The buckets, quotas and key-value entries of the keys that hash to this shard.
#[derive(Debug, Default)]
pub(super) struct Shard {
    /// The GCRA theoretical arrival time per key, in microseconds since the epoch. Once it has
    /// passed, the bucket is full again and the entry is dead weight.
    buckets: HashMap<Box<str>, u64>,
    /// Per key, the count of each window kind (a key may carry a daily and a monthly quota).
    quotas: HashMap<Box<str>, [Option<WindowCount>; 3]>,
    /// Values with their expiry.
    kv: HashMap<Box<str>, Entry>,
}

/// Uses counted in one window.
#[derive(Debug, Clone, Copy)]
struct WindowCount {
    /// The window's start, seconds since the epoch: a count from an earlier window is stale.
    start: u64,
    /// The window's end, seconds since the epoch: the count can be dropped then.
    end: u64,
    used: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    /// Microseconds since the epoch.
    expires_us: u64,
}

fn window_index(window: Window) -> usize {
    match window {
        Window::Day => 0,
        Window::Week => 1,
        Window::Month => 2,
    }
}

impl Shard {
    pub(super) fn check_bucket(
        &mut self,
        key: &str,
        now_us: u64,
        bucket: &Bucket,
        cost: u32,
    ) -> BucketDecision {
        let stored = self.buckets.get(key).copied();
        let (decision, new_tat) = algorithm::check_bucket(stored, now_us, bucket, cost);
        if let Some(tat) = new_tat {
            match self.buckets.get_mut(key) {
                Some(slot) => *slot = tat,
                None => {
                    self.buckets.insert(key.into(), tat);
                }
            }
        }
        decision
    }

    pub(super) fn use_quota(
        &mut self,
        key: &str,
        now_s: u64,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> QuotaDecision {
        let (start, end) = algorithm::window_bounds(window, now_s);
        let index = window_index(window);
        let used = self
            .quotas
            .get(key)
            .and_then(|counts| counts[index])
            .filter(|count| count.start == start)
            .map_or(0, |count| count.used);
        let decision = algorithm::quota_decision(used, limit, cost, end);
        if decision.used != used {
            let count = WindowCount {
                start,
                end,
                used: decision.used,
            };
            match self.quotas.get_mut(key) {
                Some(counts) => counts[index] = Some(count),
                None => {
                    let mut counts = [None; 3];
                    counts[index] = Some(count);
                    self.quotas.insert(key.into(), counts);
                }
            }
        }
        decision
    }

    pub(super) fn kv_get(&mut self, key: &str, now_us: u64) -> Option<Vec<u8>> {
        match self.kv.get(key) {
            Some(entry) if entry.expires_us > now_us => Some(entry.value.clone()),
            Some(_) => {
                self.kv.remove(key);
                None
            }
            None => None,
        }
    }

    pub(super) fn kv_set(&mut self, key: &str, value: &[u8], expires_us: u64) {
        let entry = Entry {
            value: value.to_vec(),
            expires_us,
        };
        match self.kv.get_mut(key) {
            Some(slot) => *slot = entry,
            None => {
                self.kv.insert(key.into(), entry);
            }
        }
    }

    pub(super) fn kv_delete(&mut self, key: &str) {
        self.kv.remove(key);
    }

    /// Drops every entry that no longer changes any answer: full buckets, counts of past
    /// windows, expired values. Returns how many were dropped.
    pub(super) fn sweep(&mut self, now_us: u64) -> usize {
        let now_s = now_us / 1_000_000;
        let before = self.len();
        self.buckets.retain(|_, tat| *tat > now_us);
        self.quotas.retain(|_, counts| {
            for slot in counts.iter_mut() {
                if slot.is_some_and(|count| count.end <= now_s) {
                    *slot = None;
                }
            }
            counts.iter().any(Option::is_some)
        });
        self.kv.retain(|_, entry| entry.expires_us > now_us);
        before - self.len()
    }

    /// Keys held (a key with a bucket and a value counts twice).
    pub(super) fn len(&self) -> usize {
        self.buckets.len() + self.quotas.len() + self.kv.len()
    }
}
