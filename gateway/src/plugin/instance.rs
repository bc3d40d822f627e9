//! A live plugin instance: one store, one instantiated component, initialised with its config.
//! The third step of a plugin's lifecycle (compile → configure → instantiate → call).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;
use wasmtime::{Store, UpdateDeadline};

use super::bindings::{self, Action, BodyAccess, InitError, WasmgatePlugin};
use super::budget::{CallBudget, DeadlineExceeded, run_within};
use super::capabilities::PluginCapabilities;
use super::compile::CompiledPlugin;
use super::error::{PluginFailure, PluginLoadError};
use super::host::{ActiveCall, CONTEXT_REP, HostState, REQUEST_REP, RESPONSE_REP};
use super::limits::MemoryCapHit;
use crate::exchange::{Exchange, ResponseState, Stage};

/// The timer that stops a guest parked in a host call (which no epoch tick reaches): the
/// deadline plus two epoch ticks.
fn backstop(deadline: Duration) -> Duration {
    deadline + 2 * super::engine::EPOCH_TICK
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
        let engine = compiled.pre().engine();
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
            // Still within budget: let other requests run on this thread, then go on.
            state.budget.note_yield();
            Ok(UpdateDeadline::Yield(1))
        });
        budget.arm(deadline);
        store.set_epoch_deadline(1);
        let instantiate = compiled.pre().instantiate_async(&mut store);
        let bindings = run_within(instantiate, &budget, backstop(deadline)).await??;
        budget.disarm();
        Ok(PluginInstance {
            store,
            bindings,
            memory_limit,
        })
    }

    /// Runs the plugin's `init` with its JSON config, under `deadline`.
    pub(super) async fn init(
        &mut self,
        config: &str,
        deadline: Duration,
    ) -> Result<bindings::PluginInfo, PluginLoadError> {
        self.arm(deadline);
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
        exchange: &mut Exchange,
        body_access: BodyAccess,
        deadline: Duration,
    ) -> Result<StageAction, PluginFailure> {
        let lent = std::mem::take(exchange);
        self.store.data_mut().call = Some(ActiveCall {
            exchange: lent,
            stage,
            body_access,
        });
        self.arm(deadline);
        // Epoch ticks only fire while Wasm runs; a guest parked in a host call (a WASI sleep)
        // is stopped by the backstop timer instead. Either way the instance is then discarded.
        let budget = self.store.data().budget.clone();
        let result = run_within(self.dispatch(stage), &budget, backstop(deadline))
            .await
            .unwrap_or_else(|exceeded| Err(exceeded.into()));
        budget.disarm();
        let state = self.store.data_mut();
        if let Some(call) = state.call.take() {
            *exchange = call.exchange;
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

    /// Starts the run-time budget of a call.
    fn arm(&mut self, deadline: Duration) {
        let state = self.store.data_mut();
        state.budget.arm(deadline);
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
    let status = http::StatusCode::from_u16(data.status)
        .ok()
        .filter(|s| (200..600).contains(&s.as_u16()))
        .ok_or_else(|| {
            PluginFailure::InvalidResponse(format!("status {} (must be 200–599)", data.status))
        })?;
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
