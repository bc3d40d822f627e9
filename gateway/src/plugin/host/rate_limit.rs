//! `interface rate-limit` of the contract: token buckets and quotas in the shared store,
//! namespaced by plugin, failing open or closed as `[store]` says. Needs the `rate-limit` grant.

use std::time::Duration;

use wasmgate_plugin_contract::rate_limit as contract_limits;

use super::{HostState, store_error};
use crate::config::Capability;
use crate::plugin::bindings::{rate_limit, types};

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
            .map_err(store_error)?;
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
            .map_err(store_error)?;
        Ok(rate_limit::QuotaDecision {
            allowed: decision.allowed,
            used: decision.used,
            remaining: decision.remaining,
            resets_at: decision.resets_at,
        })
    }
}
