//! A compiled plugin component: the first step of a plugin's lifecycle
//! (compile → configure → instantiate → call).

use std::collections::BTreeSet;

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex};

use super::bindings::WasmgatePluginPre;
use super::capabilities::capability_of_import;
use super::host::HostState;
use crate::config::Capability;
use crate::exchange::Stage;

/// How a plugin's stage calls run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// On the caller's thread, without a fiber: nothing the plugin imports has to wait (see
    /// [`Waits`]). Epoch deadlines still stop a call that runs too long.
    Sync,
    /// On a fiber, so a host call that waits (a Redis round trip, a clock subscription) lets
    /// the worker thread serve other requests meanwhile.
    Async,
}

/// What a component's imports may have to wait for, which decides its [`CallMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waits {
    /// Nothing: everything it imports answers at once (its WASI context has no real I/O, see
    /// [`super::sync_io`]).
    Never,
    /// Only the shared store (`rate-limit`, `kv`): it waits when the store is Redis, and
    /// answers at once when it is the embedded memory store.
    OnSharedStore,
    /// Something that can always wait: a clock subscription, files or sockets.
    Always,
}

/// A component compiled and linked against the host's imports, ready to be instantiated any
/// number of times. Shared by every plugin definition and snapshot using the same bytes.
pub struct CompiledPlugin {
    digest: String,
    /// Linked with imports that may wait, for calls on a fiber.
    pre: WasmgatePluginPre<HostState>,
    /// Linked with imports that answer at once, for calls without a fiber; `None` when the
    /// component imports something that can always wait.
    sync: Option<SyncLinked>,
    capabilities: BTreeSet<Capability>,
}

/// A component linked for synchronous calls.
struct SyncLinked {
    pre: WasmgatePluginPre<HostState>,
    /// The stage exports, by [`Stage::index`].
    exports: [ComponentExportIndex; 5],
}

impl CompiledPlugin {
    /// `pre` is linked with [`PluginEngine`](super::PluginEngine)'s async linker; `sync_pre`,
    /// when the component's [`waits`] allow it, with its synchronous one.
    pub(super) fn new(
        digest: String,
        pre: WasmgatePluginPre<HostState>,
        sync_pre: Option<WasmgatePluginPre<HostState>>,
    ) -> Self {
        let component = pre.instance_pre().component();
        let engine = pre.engine();
        let capabilities = component
            .component_type()
            .imports(engine)
            .filter_map(|(name, _)| capability_of_import(name))
            .collect();
        let sync = sync_pre.and_then(|pre| {
            let exports = stage_exports(pre.instance_pre().component())?;
            Some(SyncLinked { pre, exports })
        });
        CompiledPlugin {
            digest,
            pre,
            sync,
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

    /// How the plugin's stage calls run when its shared store answers at once
    /// (`store_answers_at_once`: the memory store) or over the network (Redis).
    pub fn call_mode(&self, store_answers_at_once: bool) -> CallMode {
        let imports_shared_store = self.capabilities.contains(&Capability::RateLimit)
            || self.capabilities.contains(&Capability::Kv);
        match self.sync {
            Some(_) if store_answers_at_once || !imports_shared_store => CallMode::Sync,
            _ => CallMode::Async,
        }
    }

    /// The pre-linked component for calls in `mode`.
    pub(super) fn pre(&self, mode: CallMode) -> &WasmgatePluginPre<HostState> {
        match (mode, &self.sync) {
            (CallMode::Sync, Some(sync)) => &sync.pre,
            _ => &self.pre,
        }
    }

    /// The stage exports for synchronous calls, by [`Stage::index`].
    pub(super) fn sync_exports(&self) -> Option<&[ComponentExportIndex; 5]> {
        self.sync.as_ref().map(|sync| &sync.exports)
    }
}

/// What the stage calls of `component` may have to wait for, from what it imports.
pub(super) fn waits(component: &Component, engine: &Engine) -> Waits {
    let mut waits = Waits::Never;
    for (name, item) in component.component_type().imports(engine) {
        let interface = name.split('@').next().unwrap_or(name);
        let always = match interface {
            // Linked `async` in `bindings.rs`, and at once in `sync_io.rs` for the memory store.
            "wasmgate:plugin/rate-limit" | "wasmgate:plugin/kv" => {
                waits = Waits::OnSharedStore;
                false
            }
            "wasi:clocks/monotonic-clock" => exports_any(
                &item.ty,
                engine,
                &["subscribe-duration", "subscribe-instant"],
            ),
            _ => {
                interface.starts_with("wasi:filesystem/") || interface.starts_with("wasi:sockets/")
            }
        };
        if always {
            return Waits::Always;
        }
    }
    waits
}

/// Whether an imported instance exports any of `names` (any other kind of import counts as
/// yes: it cannot be checked function by function).
fn exports_any(item: &ComponentItem, engine: &Engine, names: &[&str]) -> bool {
    match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .any(|(name, _)| names.contains(&name)),
        _ => true,
    }
}

/// The export of each stage in the `plugin` interface, by [`Stage::index`].
fn stage_exports(component: &Component) -> Option<[ComponentExportIndex; 5]> {
    let interface = component.get_export_index(None, "wasmgate:plugin/plugin@0.1.0")?;
    let export = |stage: Stage| {
        let name = match stage {
            Stage::MethodRequest => "on-method-request",
            Stage::IntegrationRequest => "on-integration-request",
            Stage::IntegrationResponse => "on-integration-response",
            Stage::MethodResponse => "on-method-response",
            Stage::Log => "on-log",
        };
        component.get_export_index(Some(&interface), name)
    };
    Some([
        export(Stage::MethodRequest)?,
        export(Stage::IntegrationRequest)?,
        export(Stage::IntegrationResponse)?,
        export(Stage::MethodResponse)?,
        export(Stage::Log)?,
    ])
}
