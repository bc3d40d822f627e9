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
    /// On the caller's thread, without a fiber: the component imports nothing that can wait
    /// (see [`calls_may_wait`]). Epoch deadlines still stop a call that runs too long.
    Sync,
    /// On a fiber, so a host call that waits (the shared store, a clock subscription) lets the
    /// worker thread serve other requests meanwhile.
    Async,
}

/// A component compiled and linked against the host's imports, ready to be instantiated any
/// number of times. Shared by every plugin definition and snapshot using the same bytes.
pub struct CompiledPlugin {
    digest: String,
    pre: WasmgatePluginPre<HostState>,
    capabilities: BTreeSet<Capability>,
    /// The stage exports, by [`Stage::index`], for synchronous calls; `None` when the plugin's
    /// calls run asynchronously.
    sync_exports: Option<[ComponentExportIndex; 5]>,
}

impl CompiledPlugin {
    /// `pre` must come from the linker for `mode`, the [`call_mode`] of its component.
    pub(super) fn new(digest: String, pre: WasmgatePluginPre<HostState>, mode: CallMode) -> Self {
        let component = pre.instance_pre().component();
        let engine = pre.engine();
        let capabilities = component
            .component_type()
            .imports(engine)
            .filter_map(|(name, _)| capability_of_import(name))
            .collect();
        let sync_exports = match mode {
            CallMode::Sync => stage_exports(component),
            CallMode::Async => None,
        };
        CompiledPlugin {
            digest,
            pre,
            capabilities,
            sync_exports,
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

    /// How the plugin's stage calls run.
    pub fn call_mode(&self) -> CallMode {
        match self.sync_exports {
            Some(_) => CallMode::Sync,
            None => CallMode::Async,
        }
    }

    /// The pre-linked component.
    pub(super) fn pre(&self) -> &WasmgatePluginPre<HostState> {
        &self.pre
    }

    /// The stage exports for synchronous calls, by [`Stage::index`].
    pub(super) fn sync_exports(&self) -> Option<&[ComponentExportIndex; 5]> {
        self.sync_exports.as_ref()
    }
}

/// How the stage calls of `component` can run, from what it imports.
pub(super) fn call_mode(component: &Component, engine: &Engine) -> CallMode {
    if calls_may_wait(component, engine) {
        CallMode::Async
    } else {
        CallMode::Sync
    }
}

/// Whether a call of `component` may have to wait for something: it imports the shared store
/// (`rate-limit`, `kv`: Redis answers over the network), a clock subscription, files or
/// sockets. Everything else a plugin imports answers at once — its WASI context has no real
/// I/O (see [`super::sync_io`]).
fn calls_may_wait(component: &Component, engine: &Engine) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, item)| {
            let interface = name.split('@').next().unwrap_or(name);
            match interface {
                // Linked `async` in `bindings.rs`.
                "wasmgate:plugin/rate-limit" | "wasmgate:plugin/kv" => true,
                "wasi:clocks/monotonic-clock" => exports_any(
                    &item.ty,
                    engine,
                    &["subscribe-duration", "subscribe-instant"],
                ),
                _ => {
                    interface.starts_with("wasi:filesystem/")
                        || interface.starts_with("wasi:sockets/")
                }
            }
        })
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
