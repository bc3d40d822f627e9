//! The gateway's handle on the shared store behind the `rate-limit` and `kv` capabilities: a
//! [`wasmgate_store::Store`] (in memory, or Redis) plus the `[store]` policy for when it cannot
//! answer, and the metrics that show it.
//!
//! One store serves every snapshot whose `[store]` section is unchanged, so a config reload keeps
//! every bucket, quota and cached value.

use std::time::{SystemTime, UNIX_EPOCH};

use wasmgate_plugin_contract::rate_limit::{
    Bucket, BucketDecision, QuotaDecision, Window, algorithm,
};
use wasmgate_plugin_contract::store as rules;
use wasmgate_plugin_sdk::StoreError;
use wasmgate_store::{RedisConfig, Store, StoreBackend, StoreConfig, StoreFailure};

use crate::config::{StoreBackendDef, StoreSettings};
use crate::metrics::STORE_UNAVAILABLE_TOTAL;

/// The store and its failure policy, shared by every plugin granted `rate-limit` or `kv`.
pub struct SharedStore {
    settings: StoreSettings,
    store: Store,
}

impl SharedStore {
    /// Opens the store `settings` describe. Never waits for Redis: an unreachable server makes
    /// calls fail (and fail open or closed) until it answers.
    pub fn open(settings: &StoreSettings) -> Result<Self, String> {
        let config = match &settings.backend {
            StoreBackendDef::Memory => StoreConfig::Memory,
            StoreBackendDef::Redis {
                url,
                timeout,
                connect_timeout,
                key_prefix,
            } => StoreConfig::Redis(RedisConfig {
                url: url.clone(),
                command_timeout: *timeout,
                connect_timeout: *connect_timeout,
                key_prefix: key_prefix.clone(),
            }),
        };
        let store = Store::open(&config).map_err(|e| e.to_string())?;
        Ok(SharedStore {
            settings: settings.clone(),
            store,
        })
    }

    /// Whether this store was opened from exactly `settings` (a reload then keeps it).
    pub fn same_settings(&self, settings: &StoreSettings) -> bool {
        self.settings == *settings
    }

    /// Whether the backend is reachable right now.
    pub fn is_connected(&self) -> bool {
        self.store.is_connected()
    }

    /// Whether every call is answered at once, without waiting on the network: the memory
    /// store. Plugins using such a store are called without a fiber.
    pub fn answers_at_once(&self) -> bool {
        matches!(self.store, Store::Memory(_))
    }

    /// A bucket check for `plugin`, failing open or closed as configured.
    pub(crate) async fn check_bucket(
        &self,
        plugin: &str,
        key: &str,
        bucket: &Bucket,
        cost: u32,
    ) -> Result<BucketDecision, StoreError> {
        let key = scoped(plugin, key)?;
        match self.store.check_bucket(&key, bucket, cost).await {
            Ok(decision) => Ok(decision),
            Err(failure) => self.fail("bucket", failure, || BucketDecision {
                allowed: true,
                remaining: bucket.burst.saturating_sub(cost),
                retry_after: std::time::Duration::ZERO,
                reset_after: std::time::Duration::ZERO,
            }),
        }
    }

    /// A quota use for `plugin`, failing open or closed as configured.
    pub(crate) async fn use_quota(
        &self,
        plugin: &str,
        key: &str,
        limit: u64,
        window: Window,
        cost: u64,
    ) -> Result<QuotaDecision, StoreError> {
        let key = scoped(plugin, key)?;
        match self.store.use_quota(&key, limit, window, cost).await {
            Ok(decision) => Ok(decision),
            Err(failure) => self.fail("quota", failure, || {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let (_, resets_at) = algorithm::window_bounds(window, now);
                QuotaDecision {
                    allowed: true,
                    used: 0,
                    remaining: limit,
                    resets_at,
                }
            }),
        }
    }

    /// The value `plugin` stored under `key`. Errors always reach the plugin.
    pub(crate) async fn kv_get(
        &self,
        plugin: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let key = scoped(plugin, key)?;
        self.store.kv_get(&key).await.map_err(kv_error)
    }

    /// Stores `value` under `plugin`'s `key` for `ttl`.
    pub(crate) async fn kv_set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl: std::time::Duration,
    ) -> Result<(), StoreError> {
        let key = scoped(plugin, key)?;
        self.store.kv_set(&key, value, ttl).await.map_err(kv_error)
    }

    /// Removes `plugin`'s `key`.
    pub(crate) async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        let key = scoped(plugin, key)?;
        self.store.kv_delete(&key).await.map_err(kv_error)
    }

    /// Applies the `on_unavailable` policy to a failed rate-limit or quota call.
    fn fail<T>(
        &self,
        operation: &'static str,
        failure: StoreFailure,
        allow: impl FnOnce() -> T,
    ) -> Result<T, StoreError> {
        let reason = match failure {
            StoreFailure::Invalid(reason) => return Err(StoreError::Invalid(reason)),
            StoreFailure::Unavailable(reason) => reason,
        };
        let outcome = if self.settings.fail_open {
            "allowed"
        } else {
            "refused"
        };
        metrics::counter!(STORE_UNAVAILABLE_TOTAL, "operation" => operation, "outcome" => outcome)
            .increment(1);
        tracing::warn!(operation, outcome, "shared store unavailable: {reason}");
        if self.settings.fail_open {
            Ok(allow())
        } else {
            Err(StoreError::Unavailable(reason))
        }
    }
}

/// `plugin:key`, once the plugin's own key passed the contract's check: each plugin's keys are
/// its own (plugin names never contain `:`). The store applies the contract's other bounds
/// (bucket, quota, value, TTL) to every call.
fn scoped(plugin: &str, key: &str) -> Result<String, StoreError> {
    rules::check_key(key).map_err(StoreError::Invalid)?;
    Ok(format!("{plugin}:{key}"))
}

fn kv_error(failure: StoreFailure) -> StoreError {
    match failure {
        StoreFailure::Invalid(reason) => StoreError::Invalid(reason),
        StoreFailure::Unavailable(reason) => {
            metrics::counter!(STORE_UNAVAILABLE_TOTAL, "operation" => "kv", "outcome" => "error")
                .increment(1);
            StoreError::Unavailable(reason)
        }
    }
}
