//! A live plugin instance: one store, one instantiated component, initialised with its config.
//! The third step of a plugin's lifecycle (compile → configure → instantiate → call).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{ComponentExportIndex, Instance, Resource, TypedFunc};
use wasmtime::{Store, UpdateDeadline};

use super::bindings::types::{Context, Request, Response};
use super::bindings::{self, Action, BodyAccess, InitError, WasmgatePlugin};
use super::budget::{CallBudget, DeadlineExceeded, run_within};
use super::capabilities::PluginCapabilities;
use super::compile::{CallMode, CompiledPlugin};
use super::error::{PluginFailure, PluginLoadError};
use super::host::{ActiveCall, CONTEXT_REP, HostState, REQUEST_REP, RESPONSE_REP};
use super::limits::MemoryCapHit;
use crate::exchange::{Exchange, ResponseState, Stage};

/// The timer that stops a guest parked in a host call (which no epoch tick reaches): the
/// deadline plus two epoch ticks.
fn backstop(deadline: Duration) -> Duration {
    deadline + 2 * super::epoch_ticker::EPOCH_TICK
}

/// What a plugin decided at a stage.
#[derive(Debug)]
pub enum StageAction {
    /// Go on with the chain.
    Continue,
    /// Answer the client with this response (request side) or replace the response with it
    /// (response side).
    Respond(ResponseState),
}

/// One instance of a plugin.
pub(crate) struct PluginInstance {
    store: Store<HostState>,
    bindings: WasmgatePlugin,
    memory_limit: u64,
    /// The stage functions of a plugin called synchronously ([`CallMode::Sync`]).
    sync_stages: Option<SyncStages>,
}

/// A synchronously called instance's stage functions, typed once at instantiation.
struct SyncStages {
    method_request: TypedFunc<RequestSide, (Action,)>,
    integration_request: TypedFunc<RequestSide, (Action,)>,
    integration_response: TypedFunc<ResponseSide, (Action,)>,
    method_response: TypedFunc<ResponseSide, (Action,)>,
    log: TypedFunc<ResponseSide, ()>,
}

/// The handles a request-side stage is called with.
type RequestSide = (Resource<Request>, Resource<Context>);

/// The handles a response-side stage (and the log stage) is called with.
type ResponseSide = (Resource<Request>, Resource<Response>, Resource<Context>);

impl SyncStages {
    fn new(
        store: &mut Store<HostState>,
        instance: &Instance,
        exports: &[ComponentExportIndex; 5],
    ) -> wasmtime::Result<Self> {
        let index = |stage: Stage| &exports[stage.index()];
        Ok(SyncStages {
            method_request: instance.get_typed_func(&mut *store, index(Stage::MethodRequest))?,
            integration_request: instance
                .get_typed_func(&mut *store, index(Stage::IntegrationRequest))?,
            integration_response: instance
                .get_typed_func(&mut *store, index(Stage::IntegrationResponse))?,
            method_response: instance.get_typed_func(&mut *store, index(Stage::MethodResponse))?,
            log: instance.get_typed_func(&mut *store, index(Stage::Log))?,
        })
    }

    /// Calls the plugin at `stage` on this thread.
    fn call(&self, store: &mut Store<HostState>, stage: Stage) -> wasmtime::Result<Option<Action>> {
        let request = Resource::new_borrow(REQUEST_REP);
        let response = || Resource::new_borrow(RESPONSE_REP);
        let context = Resource::new_borrow(CONTEXT_REP);
        let (action,) = match stage {
            Stage::MethodRequest => self.method_request.call(store, (request, context))?,
            Stage::IntegrationRequest => {
                self.integration_request.call(store, (request, context))?
            }
            Stage::IntegrationResponse => self
                .integration_response
                .call(store, (request, response(), context))?,
            Stage::MethodResponse => self
                .method_response
                .call(store, (request, response(), context))?,
            Stage::Log => {
                self.log.call(store, (request, response(), context))?;
                return Ok(None);
            }
        };
        Ok(Some(action))
    }
}

impl PluginInstance {
    /// Instantiates `compiled` in a new store with a memory cap; start functions run under
    /// `deadline`.
    pub(super) async fn instantiate(
        compiled: &CompiledPlugin,
        capabilities: Arc<PluginCapabilities>,
        memory_limit: u64,
        deadline: Duration,
    ) -> wasmtime::Result<Self> {
        let mode = compiled.call_mode(capabilities.store.answers_at_once());
        let pre = compiled.pre(mode);
        let engine = pre.engine();
        let limit = usize::try_from(memory_limit).unwrap_or(usize::MAX);
        let budget = Arc::new(CallBudget::default());
        let state = HostState::new(capabilities, limit, budget.clone());
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.budget.exceeded() {
                state.deadline_hit = true;
                return Err(DeadlineExceeded.into());
            }
            if state.in_sync_call {
                // No fiber to suspend: run on until the budget runs out.
                return Ok(UpdateDeadline::Continue(1));
            }
            // Still within budget: let other requests run on this thread, then go on.
            state.budget.note_yield();
            Ok(UpdateDeadline::Yield(1))
        });
        budget.arm(deadline);
        store.set_epoch_deadline(1);
        let instantiate = pre.instance_pre().instantiate_async(&mut store);
        let instance = run_within(instantiate, &budget, backstop(deadline)).await??;
        budget.disarm();
        let bindings = WasmgatePlugin::new(&mut store, &instance)?;
        let sync_stages = match (mode, compiled.sync_exports()) {
            (CallMode::Sync, Some(exports)) => {
                Some(SyncStages::new(&mut store, &instance, exports)?)
            }
            _ => None,
        };
        Ok(PluginInstance {
            store,
            bindings,
            memory_limit,
            sync_stages,
        })
    }

    /// Runs the plugin's `init` with its JSON config, under `deadline`.
    pub(super) async fn init(
        &mut self,
        config: &str,
        deadline: Duration,
    ) -> Result<bindings::PluginInfo, PluginLoadError> {
        self.arm(deadline, Instant::now());
        let budget = self.store.data().budget.clone();
        let init = self
            .bindings
            .wasmgate_plugin_plugin()
            .call_init(&mut self.store, config);
        let result = run_within(init, &budget, backstop(deadline))
            .await
            .unwrap_or_else(|exceeded| Err(exceeded.into()));
        budget.disarm();
        match result {
            Ok(Ok(info)) => Ok(info),
            Ok(Err(InitError::InvalidConfig(message))) => {
                Err(PluginLoadError::InvalidConfig(message))
            }
            Ok(Err(InitError::Failed(message))) => Err(PluginLoadError::InitFailed(message)),
            Err(error) => Err(PluginLoadError::InitFailed(
                self.describe(&error, deadline).to_string(),
            )),
        }
    }

    /// Calls the plugin at `stage`, lending it `exchange` for the duration of the call.
    /// On failure the instance must be discarded.
    pub(super) async fn call(
        &mut self,
        stage: Stage,
        exchange: &mut Box<Exchange>,
        body_access: BodyAccess,
        deadline: Duration,
        started: Instant,
    ) -> Result<StageAction, PluginFailure> {
        let state = self.store.data_mut();
        let spare = state.spare_exchange.take().unwrap_or_default();
        state.call = Some(ActiveCall {
            exchange: std::mem::replace(exchange, spare),
            stage,
            body_access,
        });
        self.arm(deadline, started);
        let result = match &self.sync_stages {
            Some(stages) => {
                self.store.data_mut().in_sync_call = true;
                let result = stages.call(&mut self.store, stage);
                self.store.data_mut().in_sync_call = false;
                result
            }
            // Epoch ticks only fire while Wasm runs; a guest parked in a host call (a WASI
            // sleep) is stopped by the backstop timer instead. Either way the instance is then
            // discarded.
            None => {
                let budget = self.store.data().budget.clone();
                run_within(self.dispatch(stage), &budget, backstop(deadline))
                    .await
                    .unwrap_or_else(|exceeded| Err(exceeded.into()))
            }
        };
        let state = self.store.data_mut();
        state.budget.disarm();
        if let Some(call) = state.call.take() {
            state.spare_exchange = Some(std::mem::replace(exchange, call.exchange));
        }
        match result {
            Ok(Some(Action::Respond(data))) => response_from_guest(data).map(StageAction::Respond),
            Ok(Some(Action::Continue) | None) => Ok(StageAction::Continue),
            Err(error) => Err(self.describe(&error, deadline)),
        }
    }

    async fn dispatch(&mut self, stage: Stage) -> wasmtime::Result<Option<Action>> {
        let guest = self.bindings.wasmgate_plugin_plugin();
        let store = &mut self.store;
        let request = Resource::new_borrow(REQUEST_REP);
        let response = || Resource::new_borrow(RESPONSE_REP);
        let context = Resource::new_borrow(CONTEXT_REP);
        Ok(Some(match stage {
            Stage::MethodRequest => {
                guest
                    .call_on_method_request(store, request, context)
                    .await?
            }
            Stage::IntegrationRequest => {
                guest
                    .call_on_integration_request(store, request, context)
                    .await?
            }
            Stage::IntegrationResponse => {
                guest
                    .call_on_integration_response(store, request, response(), context)
                    .await?
            }
            Stage::MethodResponse => {
                guest
                    .call_on_method_response(store, request, response(), context)
                    .await?
            }
            Stage::Log => {
                guest
                    .call_on_log(store, request, response(), context)
                    .await?;
                return Ok(None);
            }
        }))
    }

    /// Starts the run-time budget of a call that started at `started`.
    fn arm(&mut self, deadline: Duration, started: Instant) {
        let state = self.store.data_mut();
        state.budget.arm_at(started, deadline);
        state.deadline_hit = false;
        state.limiter.hit = false;
        self.store.set_epoch_deadline(1);
    }

    /// Classifies a failed call.
    fn describe(&self, error: &wasmtime::Error, deadline: Duration) -> PluginFailure {
        let state = self.store.data();
        if state.deadline_hit || error.is::<DeadlineExceeded>() {
            PluginFailure::Deadline(deadline.as_millis())
        } else if state.limiter.hit || error.is::<MemoryCapHit>() {
            PluginFailure::MemoryCap(self.memory_limit)
        } else {
            PluginFailure::Trap(format!("{error:#}"))
        }
    }
}

/// Turns a plugin's own response into one the host can send, refusing invalid parts.
fn response_from_guest(data: bindings::ResponseData) -> Result<ResponseState, PluginFailure> {
    wasmgate_plugin_contract::edits::check_status(data.status)
        .map_err(PluginFailure::InvalidResponse)?;
    let status = http::StatusCode::from_u16(data.status)
        .map_err(|_| PluginFailure::InvalidResponse(format!("status {}", data.status)))?;
    let mut headers = http::HeaderMap::with_capacity(data.headers.len());
    for (name, value) in data.headers {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| PluginFailure::InvalidResponse(format!("header name `{name}`")))?;
        let value = http::HeaderValue::from_bytes(&value)
            .map_err(|_| PluginFailure::InvalidResponse(format!("value of header `{name}`")))?;
        headers.append(name, value);
    }
    Ok(ResponseState {
        status,
        headers,
        body: Some(data.body.into()),
        body_replaced: true,
    })
}
