//! What a configured plugin may reach beyond its request: the capabilities it was granted
//! (`rate-limit`, `kv`, `metrics`, `crypto`) and the documents attached to it. Shared by every instance of
//! the plugin; the capability imports in `host` read it.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::documents::Documents;
use super::own_metrics::OwnMetrics;
use crate::config::Capability;
use crate::store::SharedStore;

/// A plugin's grants, shared store, own metrics and documents.
pub(crate) struct PluginCapabilities {
    /// The plugin's name in config (logs, key and metric namespaces).
    pub(crate) plugin: Arc<str>,
    grants: BTreeSet<Capability>,
    pub(crate) store: Arc<SharedStore>,
    pub(crate) metrics: OwnMetrics,
    pub(crate) documents: Documents,
}

impl PluginCapabilities {
    /// The capabilities of plugin `plugin`.
    pub(crate) fn new(
        plugin: Arc<str>,
        grants: BTreeSet<Capability>,
        store: Arc<SharedStore>,
        documents: Documents,
    ) -> Self {
        PluginCapabilities {
            metrics: OwnMetrics::new(&plugin),
            plugin,
            grants,
            store,
            documents,
        }
    }

    /// Whether the plugin was granted `capability`. The load-time import check makes a call to
    /// an ungranted capability impossible; this is the second lock on the door.
    pub(crate) fn granted(&self, capability: Capability) -> bool {
        self.grants.contains(&capability)
    }
}

/// The capability a component import names, e.g. `wasmgate:plugin/kv@0.1.0` → `kv`.
pub(crate) fn capability_of_import(import: &str) -> Option<Capability> {
    let interface = import.strip_prefix("wasmgate:plugin/")?;
    let interface = interface
        .split_once('@')
        .map_or(interface, |(name, _)| name);
    Capability::from_name(interface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_capability_of_an_import() {
        let kv = capability_of_import("wasmgate:plugin/kv@0.1.0");
        assert_eq!(kv, Some(Capability::Kv));
        let limits = capability_of_import("wasmgate:plugin/rate-limit");
        assert_eq!(limits, Some(Capability::RateLimit));
        assert_eq!(capability_of_import("wasmgate:plugin/log@0.1.0"), None);
        assert_eq!(capability_of_import("wasi:io/streams@0.2.0"), None);
    }
}
