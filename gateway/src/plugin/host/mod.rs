//! The host side of the plugin contract: the store data of a plugin instance ([`HostState`])
//! and the imports it is linked with, one file per WIT interface of `wit/plugin.wit` (as the
//! SDK has one module per interface): [`request`], [`response`], [`context`], [`log`],
//! [`clock`], and the granted capabilities [`rate_limit`], [`kv`], [`metrics`], [`documents`],
//! [`crypto`]. [`headers`] holds the header rules the request and response share.
//!
//! The capabilities are checked twice: a component importing one it was not granted never
//! loads, and each call checks the grant again.

mod clock;
mod context;
mod crypto;
mod documents;
mod headers;
mod kv;
mod log;
mod metrics;
mod rate_limit;
mod request;
mod response;

use std::sync::Arc;

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use wasmgate_plugin_sdk::StoreError as SdkStoreError;

use super::bindings::{self, BodyAccess, BodyError, EditError, types};
use super::budget::CallBudget;
use super::capabilities::PluginCapabilities;
use super::limits::MemoryLimiter;
use crate::config::Capability;
use crate::exchange::{ContextBag, Exchange, Stage};

/// The `rep` of the request handle lent to a stage call.
pub(super) const REQUEST_REP: u32 = 0;
/// The `rep` of the response handle lent to a stage call.
pub(super) const RESPONSE_REP: u32 = 1;
/// The `rep` of the context handle lent to a stage call.
pub(super) const CONTEXT_REP: u32 = 2;

/// The data of one plugin instance's store.
pub(crate) struct HostState {
    /// The plugin's name, grants, store, metrics and documents (shared by its instances).
    pub(super) capabilities: Arc<PluginCapabilities>,
    /// WASI with an empty context: no files, env, args or sockets.
    wasi: WasiCtx,
    table: ResourceTable,
    /// Enforces the plugin's memory cap and records when it was hit.
    pub(super) limiter: MemoryLimiter,
    /// The exchange lent to the stage call in progress.
    pub(super) call: Option<ActiveCall>,
    /// The run-time budget of the call in progress (checked at every epoch tick).
    pub(super) budget: Arc<CallBudget>,
    /// Set when the epoch callback stopped a call for running past its deadline.
    pub(super) deadline_hit: bool,
    /// Set while a synchronous call runs: the epoch callback must not yield then.
    pub(super) in_sync_call: bool,
    /// An empty exchange, swapped with the caller's for the duration of a call: lending an
    /// exchange moves a pointer, not the exchange.
    pub(super) spare_exchange: Option<Box<Exchange>>,
    /// How many `crypto` keys the instance holds in `table`.
    pub(super) crypto_keys: u32,
}

/// A stage call in progress: the exchange and what the plugin may do with it.
pub(super) struct ActiveCall {
    pub(super) exchange: Box<Exchange>,
    pub(super) stage: Stage,
    pub(super) body_access: BodyAccess,
}

impl HostState {
    /// A store's data for a new instance of a plugin with a memory cap of `memory_limit` bytes.
    pub(super) fn new(
        capabilities: Arc<PluginCapabilities>,
        memory_limit: usize,
        budget: Arc<CallBudget>,
    ) -> Self {
        HostState {
            capabilities,
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            call: None,
            budget,
            deadline_hit: false,
            in_sync_call: false,
            spare_exchange: None,
            crypto_keys: 0,
        }
    }

    /// The store's resource table (WASI's streams and pollables).
    pub(super) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn call(&self) -> &ActiveCall {
        self.call
            .as_ref()
            .expect("handles are only lent to the guest during a stage call")
    }

    fn call_mut(&mut self) -> &mut ActiveCall {
        self.call
            .as_mut()
            .expect("handles are only lent to the guest during a stage call")
    }

    fn editable_request(&mut self) -> Result<&mut ActiveCall, EditError> {
        let call = self.call_mut();
        if call.stage.request_editable() {
            Ok(call)
        } else {
            Err(EditError::ReadOnly)
        }
    }

    fn editable_response(&mut self) -> Result<&mut crate::exchange::ResponseState, EditError> {
        let call = self.call_mut();
        if !call.stage.response_editable() {
            return Err(EditError::ReadOnly);
        }
        call.exchange.response.as_mut().ok_or(EditError::ReadOnly)
    }

    /// The context bag, when `key` may be edited at this stage: never at the log stage, never
    /// under the gateway's own prefix.
    fn editable_context(&mut self, key: &str) -> Result<&mut ContextBag, EditError> {
        let call = self.call_mut();
        if !call.stage.context_editable() || !wasmgate_plugin_contract::context::is_writable(key) {
            return Err(EditError::ReadOnly);
        }
        Ok(&mut call.exchange.context)
    }

    fn response(&self) -> Option<&crate::exchange::ResponseState> {
        self.call().exchange.response.as_ref()
    }

    /// Refuses a shared-store call of a capability the plugin was not granted.
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

/// A shared-store failure as the contract's error.
fn store_error(error: SdkStoreError) -> types::StoreError {
    match error {
        SdkStoreError::Unavailable(reason) => types::StoreError::Unavailable(reason),
        SdkStoreError::Invalid(reason) => types::StoreError::Invalid(reason),
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn read_body(body: Option<&Bytes>, declared: bool) -> Result<Vec<u8>, BodyError> {
    match (declared, body) {
        (false, _) => Err(BodyError::NotDeclared),
        (true, Some(body)) => Ok(body.to_vec()),
        // Declared, but the gateway answered before reading it (no route, body refused).
        (true, None) => Err(BodyError::Unavailable(
            "the body was not read: the gateway answered this request itself".into(),
        )),
    }
}

impl types::Host for HostState {}

/// Links the plugin world's imports and an empty WASI into `linker`.
pub(super) fn link(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    bindings::WasmgatePlugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |s| s)
}

#[cfg(test)]
mod tests {
    use http::uri::PathAndQuery;
    use wasmgate_plugin_contract::edits::{check_path, check_query};

    /// The backend's URI is built from the edited path and query: whatever the contract lets a
    /// plugin write must parse.
    #[test]
    fn every_path_and_query_the_contract_accepts_makes_a_uri() {
        for byte in 0x21u8..=0x7e {
            let c = byte as char;
            let path = format!("/a{c}b");
            if check_path(&path).is_ok() {
                assert!(path.parse::<PathAndQuery>().is_ok(), "path {path:?}");
            }
            let query = format!("a{c}b");
            if check_query(&query).is_ok() {
                let uri = format!("/p?{query}");
                assert!(uri.parse::<PathAndQuery>().is_ok(), "query {query:?}");
            }
        }
    }
}
