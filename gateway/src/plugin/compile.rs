//! A compiled plugin component: the first step of a plugin's lifecycle
//! (compile → configure → instantiate → call).

use std::collections::BTreeSet;

use super::bindings::WasmgatePluginPre;
use super::capabilities::capability_of_import;
use super::host::HostState;
use crate::config::Capability;

/// A component compiled and linked against the host's imports, ready to be instantiated any
/// number of times. Shared by every plugin definition and snapshot using the same bytes.
pub struct CompiledPlugin {
    digest: String,
    pre: WasmgatePluginPre<HostState>,
    capabilities: BTreeSet<Capability>,
}

impl CompiledPlugin {
    pub(super) fn new(digest: String, pre: WasmgatePluginPre<HostState>) -> Self {
        let component = pre.instance_pre().component();
        let engine = pre.engine();
        let capabilities = component
            .component_type()
            .imports(engine)
            .filter_map(|(name, _)| capability_of_import(name))
            .collect();
        CompiledPlugin {
            digest,
            pre,
            capabilities,
        }
    }

    /// The capabilities the component imports: each must be granted to a plugin using it.
    pub fn imported_capabilities(&self) -> &BTreeSet<Capability> {
        &self.capabilities
    }

    /// SHA-256 of the component's bytes, lower-case hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The pre-linked component.
    pub(super) fn pre(&self) -> &WasmgatePluginPre<HostState> {
        &self.pre
    }
}
