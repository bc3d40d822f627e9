//! A compiled plugin component: the first step of a plugin's lifecycle
//! (compile → configure → instantiate → call).

use super::bindings::WasmgatePluginPre;
use super::host::HostState;

/// A component compiled and linked against the host's imports, ready to be instantiated any
/// number of times. Shared by every plugin definition and snapshot using the same bytes.
pub struct CompiledPlugin {
    digest: String,
    pre: WasmgatePluginPre<HostState>,
}

impl CompiledPlugin {
    pub(super) fn new(digest: String, pre: WasmgatePluginPre<HostState>) -> Self {
        CompiledPlugin { digest, pre }
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
