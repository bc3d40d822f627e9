//! The host side of the plugin contract: the store data of a plugin instance and the imports it
//! is linked with (request/response/context handles, log, clock).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, StatusCode};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use wasmgate_plugin_contract::edits;

use super::bindings::{self, BodyAccess, BodyError, EditError, clock, log, types};
use super::budget::CallBudget;
use super::capabilities::PluginCapabilities;
use super::host_headers::{
    all_values, append_header, every_header, first_value, names, remove_header, set_header,
};
use super::limits::MemoryLimiter;
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

impl types::HostRequest for HostState {
    fn method(&mut self, _: Resource<types::Request>) -> String {
        self.call().exchange.request.method.to_string()
    }

    fn set_method(&mut self, _: Resource<types::Request>, method: String) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        edits::check_method(&method).map_err(EditError::Invalid)?;
        request.method = Method::from_bytes(method.as_bytes())
            .map_err(|_| EditError::Invalid(format!("`{method}` is not a valid HTTP method")))?;
        Ok(())
    }

    fn path(&mut self, _: Resource<types::Request>) -> String {
        self.call().exchange.request.path.clone()
    }

    fn set_path(&mut self, _: Resource<types::Request>, path: String) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        edits::check_path(&path).map_err(EditError::Invalid)?;
        request.path = path;
        Ok(())
    }

    fn query(&mut self, _: Resource<types::Request>) -> Option<String> {
        self.call().exchange.request.query.clone()
    }

    fn set_query(
        &mut self,
        _: Resource<types::Request>,
        query: Option<String>,
    ) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        if let Some(query) = &query {
            edits::check_query(query).map_err(EditError::Invalid)?;
        }
        request.query = query;
        Ok(())
    }

    fn query_param(&mut self, _: Resource<types::Request>, name: String) -> Option<String> {
        let query = self.call().exchange.request.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.into_owned())
    }

    fn path_param(&mut self, _: Resource<types::Request>, name: String) -> Option<String> {
        let params = &self.call().exchange.request.path_params;
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, v)| v.clone())
    }

    fn path_params(&mut self, _: Resource<types::Request>) -> Vec<(String, String)> {
        self.call().exchange.request.path_params.clone()
    }

    fn header(&mut self, _: Resource<types::Request>, name: String) -> Option<Vec<u8>> {
        first_value(&self.call().exchange.request.headers, &name)
    }

    fn header_values(&mut self, _: Resource<types::Request>, name: String) -> Vec<Vec<u8>> {
        all_values(&self.call().exchange.request.headers, &name)
    }

    fn header_names(&mut self, _: Resource<types::Request>) -> Vec<String> {
        names(&self.call().exchange.request.headers)
    }

    fn headers(&mut self, _: Resource<types::Request>) -> types::HeaderBlock {
        every_header(&self.call().exchange.request.headers)
    }

    fn set_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        set_header(
            &mut self.editable_request()?.exchange.request.headers,
            name,
            value,
        )
    }

    fn append_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        append_header(
            &mut self.editable_request()?.exchange.request.headers,
            name,
            value,
        )
    }

    fn remove_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
    ) -> Result<(), EditError> {
        remove_header(&mut self.editable_request()?.exchange.request.headers, name)
    }

    fn body(&mut self, _: Resource<types::Request>) -> Result<Vec<u8>, BodyError> {
        let call = self.call();
        let declared = call.body_access.contains(BodyAccess::REQUEST);
        read_body(call.exchange.request.body.as_ref(), declared)
    }

    fn set_body(&mut self, _: Resource<types::Request>, body: Vec<u8>) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        request.body = Some(Bytes::from(body));
        request.body_replaced = true;
        Ok(())
    }

    fn drop(&mut self, _: Resource<types::Request>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl types::HostResponse for HostState {
    fn status(&mut self, _: Resource<types::Response>) -> u16 {
        self.response().map_or(0, |r| r.status.as_u16())
    }

    fn set_status(&mut self, _: Resource<types::Response>, status: u16) -> Result<(), EditError> {
        let response = self.editable_response()?;
        edits::check_status(status).map_err(EditError::Invalid)?;
        response.status = StatusCode::from_u16(status)
            .map_err(|_| EditError::Invalid(format!("{status} is not a valid status")))?;
        Ok(())
    }

    fn header(&mut self, _: Resource<types::Response>, name: String) -> Option<Vec<u8>> {
        first_value(&self.response()?.headers, &name)
    }

    fn header_values(&mut self, _: Resource<types::Response>, name: String) -> Vec<Vec<u8>> {
        self.response()
            .map(|r| all_values(&r.headers, &name))
            .unwrap_or_default()
    }

    fn header_names(&mut self, _: Resource<types::Response>) -> Vec<String> {
        self.response()
            .map(|r| names(&r.headers))
            .unwrap_or_default()
    }

    fn headers(&mut self, _: Resource<types::Response>) -> types::HeaderBlock {
        match self.response() {
            Some(response) => every_header(&response.headers),
            None => types::HeaderBlock {
                bytes: Vec::new(),
                ends: Vec::new(),
            },
        }
    }

    fn set_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        set_header(&mut self.editable_response()?.headers, name, value)
    }

    fn append_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        append_header(&mut self.editable_response()?.headers, name, value)
    }

    fn remove_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
    ) -> Result<(), EditError> {
        remove_header(&mut self.editable_response()?.headers, name)
    }

    fn body(&mut self, _: Resource<types::Response>) -> Result<Vec<u8>, BodyError> {
        let call = self.call();
        let declared = call.body_access.contains(BodyAccess::RESPONSE);
        read_body(
            call.exchange
                .response
                .as_ref()
                .and_then(|r| r.body.as_ref()),
            declared,
        )
    }

    fn set_body(&mut self, _: Resource<types::Response>, body: Vec<u8>) -> Result<(), EditError> {
        let response = self.editable_response()?;
        response.body = Some(Bytes::from(body));
        response.body_replaced = true;
        Ok(())
    }

    fn drop(&mut self, _: Resource<types::Response>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl types::HostContext for HostState {
    fn get(&mut self, _: Resource<types::Context>, key: String) -> Option<String> {
        self.call().exchange.context.get(&key).map(str::to_owned)
    }

    fn set(
        &mut self,
        _: Resource<types::Context>,
        key: String,
        value: String,
    ) -> Result<(), EditError> {
        self.editable_context(&key)?.insert(key, value);
        Ok(())
    }

    fn remove(&mut self, _: Resource<types::Context>, key: String) -> Result<(), EditError> {
        self.editable_context(&key)?.remove(&key);
        Ok(())
    }

    fn keys(&mut self, _: Resource<types::Context>) -> Vec<String> {
        self.call()
            .exchange
            .context
            .keys()
            .map(str::to_owned)
            .collect()
    }

    fn drop(&mut self, _: Resource<types::Context>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl log::Host for HostState {
    fn enabled(&mut self, level: log::Level) -> bool {
        match level {
            log::Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
            log::Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
            log::Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
            log::Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
            log::Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        }
    }

    fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let plugin = &*self.capabilities.plugin;
        let (stage, request_id, trace_id) = match &self.call {
            Some(call) => {
                let context = &call.exchange.context;
                let trace_id = context.get(ContextBag::TRACE_ID).unwrap_or_default();
                (call.stage.name(), call.exchange.request_id(), trace_id)
            }
            None => ("init", "", ""),
        };
        let fields = FieldList(&fields);
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "plugin", $level, plugin, stage, request_id, trace_id, fields = %fields, "{message}")
            };
        }
        match level {
            log::Level::Trace => emit!(tracing::Level::TRACE),
            log::Level::Debug => emit!(tracing::Level::DEBUG),
            log::Level::Info => emit!(tracing::Level::INFO),
            log::Level::Warn => emit!(tracing::Level::WARN),
            log::Level::Error => emit!(tracing::Level::ERROR),
        }
    }
}

/// Plugin log fields rendered as `key=value` pairs.
struct FieldList<'a>(&'a [(String, String)]);

impl std::fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value:?}")?;
        }
        Ok(())
    }
}

impl clock::Host for HostState {
    fn now(&mut self) -> clock::Datetime {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        clock::Datetime {
            seconds: since_epoch.as_secs(),
            nanoseconds: since_epoch.subsec_nanos(),
        }
    }

    fn monotonic_nanos(&mut self) -> u64 {
        monotonic_origin().elapsed().as_nanos() as u64
    }
}

/// The process-wide origin of the monotonic clock plugins see.
fn monotonic_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

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
