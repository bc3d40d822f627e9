//! The native capabilities: per-thread (so per-test) in-memory buckets, quotas, key-value
//! entries, recorded metrics and attached documents, reading the fake clock. Buckets and quotas
//! run the same [`algorithm`](crate::rate_limit::algorithm) as the gateway's stores, and every
//! call is refused by the same [store rules](wasmgate_plugin_contract::store).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::StoreError;
use crate::documents::{Document, DocumentError};
use crate::metrics::MetricKind;
use crate::rate_limit::{Bucket, BucketDecision, QuotaDecision, Window, algorithm};
use crate::testing::RecordedMetric;
use wasmgate_plugin_contract::metrics as metrics_rules;
use wasmgate_plugin_contract::store as rules;

/// Everything the fake capabilities hold for one thread.
#[derive(Default)]
struct FakeStore {
    /// The GCRA arrival time per bucket key, in microseconds since the epoch.
    buckets: HashMap<String, u64>,
    /// Uses per `(key, window start)`.
    quotas: HashMap<(String, u64), u64>,
    /// Values with their expiry, in microseconds since the epoch.
    kv: HashMap<String, (Vec<u8>, u64)>,
    metrics: Vec<RecordedMetric>,
    /// The kind of every metric name recorded, and the series (name and labels) created, which
    /// the contract bounds as the gateway does.
    metric_kinds: HashMap<String, MetricKind>,
    metric_series: HashSet<(String, Vec<(String, String)>)>,
    documents: HashMap<String, Document>,
    /// Set by a test to make every store call fail with `StoreError::Unavailable`.
    unavailable: bool,
}

thread_local! {
    static STORE: RefCell<FakeStore> = RefCell::new(FakeStore::default());
}

fn with_store<T>(f: impl FnOnce(&mut FakeStore) -> T) -> T {
    STORE.with(|store| f(&mut store.borrow_mut()))
}

fn now_us() -> u64 {
    let (seconds, nanoseconds) = super::now();
    seconds * 1_000_000 + u64::from(nanoseconds / 1_000)
}

/// Fails every call while the test has made the store unavailable. Called after the contract's
/// checks: as in the gateway, an invalid call is refused as invalid whether the store is up.
fn available(store: &FakeStore) -> Result<(), StoreError> {
    if store.unavailable {
        return Err(StoreError::Unavailable(
            "the fake store was made unavailable by the test".into(),
        ));
    }
    Ok(())
}

pub(crate) fn check_bucket(
    key: &str,
    bucket: Bucket,
    cost: u32,
) -> Result<BucketDecision, StoreError> {
    rules::check_key(key)
        .and_then(|()| rules::check_bucket(&bucket))
        .map_err(StoreError::Invalid)?;
    with_store(|store| {
        available(store)?;
        let now = now_us();
        let stored = store.buckets.get(key).copied();
        let (decision, new_tat) = algorithm::check_bucket(stored, now, &bucket, cost);
        if let Some(tat) = new_tat {
            store.buckets.insert(key.to_owned(), tat);
        }
        Ok(decision)
    })
}

pub(crate) fn use_quota(
    key: &str,
    limit: u64,
    window: Window,
    cost: u64,
) -> Result<QuotaDecision, StoreError> {
    rules::check_key(key)
        .and_then(|()| rules::check_quota(limit))
        .map_err(StoreError::Invalid)?;
    with_store(|store| {
        available(store)?;
        let (start, end) = algorithm::window_bounds(window, now_us() / 1_000_000);
        let used = store.quotas.entry((key.to_owned(), start)).or_default();
        let decision = algorithm::quota_decision(*used, limit, cost, end);
        *used = decision.used;
        Ok(decision)
    })
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    rules::check_key(key).map_err(StoreError::Invalid)?;
    with_store(|store| {
        available(store)?;
        let now = now_us();
        Ok(store
            .kv
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone()))
    })
}

pub(crate) fn kv_set(key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
    let ttl = rules::check_key(key)
        .and_then(|()| rules::check_kv_set(value, ttl))
        .map_err(StoreError::Invalid)?;
    with_store(|store| {
        available(store)?;
        let ttl_us = u64::try_from(ttl.as_micros()).unwrap_or(u64::MAX);
        store
            .kv
            .insert(key.to_owned(), (value.to_vec(), now_us() + ttl_us));
        Ok(())
    })
}

pub(crate) fn kv_delete(key: &str) -> Result<(), StoreError> {
    rules::check_key(key).map_err(StoreError::Invalid)?;
    with_store(|store| {
        available(store)?;
        store.kv.remove(key);
        Ok(())
    })
}

pub(crate) fn metric(
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
    value: f64,
) -> Result<(), String> {
    let labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    with_store(|store| {
        let series = (name.to_owned(), labels);
        if !store.metric_series.contains(&series) {
            metrics_rules::check_new_series(name, &series.1, store.metric_series.len())?;
        }
        let known = *store.metric_kinds.entry(name.to_owned()).or_insert(kind);
        if known != kind {
            return Err(metrics_rules::kind_mismatch(name, known, kind));
        }
        let (name, labels) = series.clone();
        store.metric_series.insert(series);
        store.metrics.push(RecordedMetric {
            kind,
            name,
            labels,
            value,
        });
        Ok(())
    })
}

pub(crate) fn take_metrics() -> Vec<RecordedMetric> {
    with_store(|store| std::mem::take(&mut store.metrics))
}

pub(crate) fn document_get(name: &str) -> Result<Document, DocumentError> {
    with_store(|store| store.documents.get(name).cloned())
        .ok_or_else(|| DocumentError::Unknown(name.to_owned()))
}

pub(crate) fn document_version(name: &str) -> Result<u64, DocumentError> {
    with_store(|store| store.documents.get(name).map(|d| d.version))
        .ok_or_else(|| DocumentError::Unknown(name.to_owned()))
}

pub(crate) fn document_request_refresh(_name: &str) {}

pub(crate) fn set_document(name: &str, content: &[u8]) {
    with_store(|store| {
        let version = store.documents.get(name).map_or(1, |d| d.version + 1);
        let document = Document {
            version,
            content: content.to_vec(),
        };
        store.documents.insert(name.to_owned(), document);
    });
}

pub(crate) fn set_store_unavailable(unavailable: bool) {
    with_store(|store| store.unavailable = unavailable);
}
