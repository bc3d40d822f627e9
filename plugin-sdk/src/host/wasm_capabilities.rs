//! The Wasm backend of the capabilities: thin wrappers over the gateway's `rate-limit`, `kv`,
//! `metrics` and `documents` imports. A component imports only the ones its plugin calls.

use std::time::Duration;

use crate::__bindings::wasmgate::plugin::{documents, kv, metrics, rate_limit, types as wit};
use crate::StoreError;
use crate::documents::{Document, DocumentError};
use crate::metrics::MetricKind;
use crate::rate_limit::{Bucket, BucketDecision, QuotaDecision, Window};

impl From<wit::StoreError> for StoreError {
    fn from(err: wit::StoreError) -> Self {
        match err {
            wit::StoreError::Unavailable(message) => StoreError::Unavailable(message),
            wit::StoreError::Invalid(message) => StoreError::Invalid(message),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn check_bucket(
    key: &str,
    bucket: Bucket,
    cost: u32,
) -> Result<BucketDecision, StoreError> {
    let bucket = rate_limit::Bucket {
        rate: bucket.rate,
        period_ms: millis(bucket.period),
        burst: bucket.burst,
    };
    let decision = rate_limit::check_bucket(key, bucket, cost)?;
    Ok(BucketDecision {
        allowed: decision.allowed,
        remaining: decision.remaining,
        retry_after: Duration::from_millis(decision.retry_after_ms),
        reset_after: Duration::from_millis(decision.reset_after_ms),
    })
}

pub(crate) fn use_quota(
    key: &str,
    limit: u64,
    window: Window,
    cost: u64,
) -> Result<QuotaDecision, StoreError> {
    let window = match window {
        Window::Day => rate_limit::Window::Day,
        Window::Week => rate_limit::Window::Week,
        Window::Month => rate_limit::Window::Month,
    };
    let decision = rate_limit::use_quota(key, limit, window, cost)?;
    Ok(QuotaDecision {
        allowed: decision.allowed,
        used: decision.used,
        remaining: decision.remaining,
        resets_at: decision.resets_at,
    })
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(kv::get(key)?)
}

pub(crate) fn kv_set(key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
    Ok(kv::set(key, value, millis(ttl))?)
}

pub(crate) fn kv_delete(key: &str) -> Result<(), StoreError> {
    Ok(kv::delete(key)?)
}

pub(crate) fn metric(
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
    value: f64,
) -> Result<(), String> {
    match kind {
        MetricKind::Counter => metrics::counter_add(name, labels, value as u64),
        MetricKind::Histogram => metrics::histogram_record(name, labels, value),
        MetricKind::Gauge => metrics::gauge_set(name, labels, value),
    }
}

impl From<documents::DocumentError> for DocumentError {
    fn from(err: documents::DocumentError) -> Self {
        match err {
            documents::DocumentError::Unknown(name) => DocumentError::Unknown(name),
            documents::DocumentError::Unavailable(reason) => DocumentError::Unavailable(reason),
        }
    }
}

pub(crate) fn document_get(name: &str) -> Result<Document, DocumentError> {
    let document = documents::get(name)?;
    Ok(Document {
        version: document.version,
        content: document.content,
    })
}

pub(crate) fn document_version(name: &str) -> Result<u64, DocumentError> {
    Ok(documents::version(name)?)
}

pub(crate) fn document_request_refresh(name: &str) {
    documents::request_refresh(name);
}
