//! `interface kv` of the contract: a small key-value store with expiry in the shared store,
//! namespaced by plugin. Needs the `kv` grant.

use std::time::Duration;

use super::{HostState, store_error};
use crate::config::Capability;
use crate::plugin::bindings::{kv, types};

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, types::StoreError> {
        self.require(Capability::Kv)?;
        let caps = &self.capabilities;
        caps.store
            .kv_get(&caps.plugin, &key)
            .await
            .map_err(store_error)
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
            .map_err(store_error)
    }

    async fn delete(&mut self, key: String) -> Result<(), types::StoreError> {
        self.require(Capability::Kv)?;
        let caps = &self.capabilities;
        caps.store
            .kv_delete(&caps.plugin, &key)
            .await
            .map_err(store_error)
    }
}
