//! The capability imports: `rate-limit` and `kv` (the shared store, namespaced by plugin),
//! `metrics` (the plugin's own series) and `documents` (what the operator attached).
//!
//! `rate-limit`, `kv` and `metrics` are checked twice: a component importing one it was not
//! granted never loads, and each call checks the grant again.

use std::time::Duration;

use wasmgate_plugin_contract::rate_limit as contract_limits;
use wasmgate_plugin_sdk::StoreError as SdkStoreError;
use wasmgate_plugin_sdk::metrics::MetricKind;

use super::bindings::{documents, kv, metrics, rate_limit, types};
use super::documents::DocumentUnavailable;
use super::host::HostState;
use crate::config::Capability;

impl HostState {
    fn require(&self, capability: Capability) -> Result<(), types::StoreError> {
        if self.capabilities.granted(capability) {
            Ok(())
        } else {
            Err(types::StoreError::Invalid(format!(
                "plugin `{}` was not granted `{}`",
                self.capabilities.plugin,
                capability.as_str()
            )))
        }
    }
}

fn wit_error(error: SdkStoreError) -> types::StoreError {
    match error {
        SdkStoreError::Unavailable(reason) => types::StoreError::Unavailable(reason),
        SdkStoreError::Invalid(reason) => types::StoreError::Invalid(reason),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl rate_limit::Host for HostState {
    async fn check_bucket(
        &mut self,
        key: String,
        bucket: rate_limit::Bucket,
        cost: u32,
    ) -> Result<rate_limit::BucketDecision, types::StoreError> {
        self.require(Capability::RateLimit)?;
        let bucket = contract_limits::Bucket {
            rate: bucket.rate,
            period: Duration::from_millis(bucket.period_ms),
            burst: bucket.burst,
        };
        let caps = &self.capabilities;
        let decision = caps
            .store
            .check_bucket(&caps.plugin, &key, &bucket, cost)
            .await
            .map_err(wit_error)?;
        Ok(rate_limit::BucketDecision {
            allowed: decision.allowed,
            remaining: decision.remaining,
            retry_after_ms: millis(decision.retry_after),
            reset_after_ms: millis(decision.reset_after),
        })
    }

    async fn use_quota(
        &mut self,
        key: String,
        limit: u64,
        window: rate_limit::Window,
        cost: u64,
    ) -> Result<rate_limit::QuotaDecision, types::StoreError> {
        self.require(Capability::RateLimit)?;
        let window = match window {
            rate_limit::Window::Day => contract_limits::Window::Day,
            rate_limit::Window::Week => contract_limits::Window::Week,
            rate_limit::Window::Month => contract_limits::Window::Month,
        };
        let caps = &self.capabilities;
        let decision = caps
            .store
            .use_quota(&caps.plugin, &key, limit, window, cost)
            .await
            .map_err(wit_error)?;
        Ok(rate_limit::QuotaDecision {
            allowed: decision.allowed,
            used: decision.used,
            remaining: decision.remaining,
            resets_at: decision.resets_at,
        })
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, types::StoreError> {
        self.require(Capability::Kv)?;
        let caps = &self.capabilities;
        caps.store
            .kv_get(&caps.plugin, &key)
            .await
            .map_err(wit_error)
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<(), types::StoreError> {
        self.require(Capability::Kv)?;
        // The store applies the contract's bounds (and shortens a TTL over the maximum).
        let ttl = Duration::from_millis(ttl_ms);
        let caps = &self.capabilities;
        caps.store
            .kv_set(&caps.plugin, &key, &value, ttl)
            .await
            .map_err(wit_error)
    }

    async fn delete(&mut self, key: String) -> Result<(), types::StoreError> {
        self.require(Capability::Kv)?;
        let caps = &self.capabilities;
        caps.store
            .kv_delete(&caps.plugin, &key)
            .await
            .map_err(wit_error)
    }
}

impl HostState {
    fn record_metric(
        &mut self,
        kind: MetricKind,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        if !self.capabilities.granted(Capability::Metrics) {
            let plugin = &self.capabilities.plugin;
            return Err(format!("plugin `{plugin}` was not granted `metrics`"));
        }
        self.capabilities.metrics.record(kind, &name, labels, value)
    }
}

impl metrics::Host for HostState {
    fn counter_add(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: u64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Counter, name, labels, value as f64)
    }

    fn histogram_record(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Histogram, name, labels, value)
    }

    fn gauge_set(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Result<(), String> {
        self.record_metric(MetricKind::Gauge, name, labels, value)
    }
}

fn document_error(name: String, error: DocumentUnavailable) -> documents::DocumentError {
    match error {
        DocumentUnavailable::Unknown => documents::DocumentError::Unknown(name),
        DocumentUnavailable::NotFetched(reason) => documents::DocumentError::Unavailable(reason),
    }
}

impl documents::Host for HostState {
    fn get(&mut self, name: String) -> Result<documents::Document, documents::DocumentError> {
        match self.capabilities.documents.get(&name) {
            Ok(document) => Ok(documents::Document {
                version: document.version,
                content: document.content.to_vec(),
            }),
            Err(error) => Err(document_error(name, error)),
        }
    }

    fn version(&mut self, name: String) -> Result<u64, documents::DocumentError> {
        match self.capabilities.documents.get(&name) {
            Ok(document) => Ok(document.version),
            Err(error) => Err(document_error(name, error)),
        }
    }

    fn request_refresh(&mut self, name: String) {
        self.capabilities.documents.request_refresh(&name);
    }
}
