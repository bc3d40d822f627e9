//! The `wasmgate:plugin/plugin` export, implemented once for every [`Plugin`].

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;

use super::wasm::{ContextHandle, RequestHandle, ResponseHandle};
use crate::__bindings::exports::wasmgate::plugin::plugin::Guest;
use crate::__bindings::wasmgate::plugin::types as wit;
use crate::log::{self, Level};
use crate::{Action, Context, InitError, Plugin, Request, Response};

/// Implements the WIT `plugin` export for `P`; named by [`export_plugin!`](crate::export_plugin).
pub struct Adapter<P>(PhantomData<P>);

thread_local! {
    /// The instance `init` built. A component instance is single-threaded and `init` runs once,
    /// so the plugin is leaked into a `&'static` that every stage call borrows.
    static INSTANCE: Cell<Option<&'static dyn Any>> = const { Cell::new(None) };
}

/// The plugin `init` stored, or a trap naming the export that came too early.
fn instance<P: Plugin>(export: &str) -> &'static P {
    INSTANCE
        .with(Cell::get)
        .and_then(|plugin| plugin.downcast_ref::<P>())
        .unwrap_or_else(|| {
            log_panics();
            panic!("wasmgate plugin: `{export}` called before `init` succeeded")
        })
}

/// Sends panic messages to the gateway log: WASI stderr goes nowhere in the gateway, and the
/// trap alone does not say why.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("(non-string payload)");
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        log::write(
            Level::Error,
            &format!("plugin panicked: {message}"),
            &[("location", &location)],
        );
    }));
}

impl From<InitError> for wit::InitError {
    fn from(err: InitError) -> Self {
        match err {
            InitError::InvalidConfig(message) => wit::InitError::InvalidConfig(message),
            InitError::Failed(message) => wit::InitError::Failed(message),
        }
    }
}

impl From<Action> for wit::Action {
    fn from(action: Action) -> Self {
        match action {
            Action::Continue => wit::Action::Continue,
            Action::Respond(response) => wit::Action::Respond(wit::ResponseData {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
        }
    }
}

impl<P: Plugin> Guest for Adapter<P> {
    fn init(config: String) -> Result<wit::PluginInfo, wit::InitError> {
        log_panics();
        if INSTANCE.with(Cell::get).is_some() {
            return Err(InitError::failed("`init` called twice on the same instance").into());
        }
        let plugin: &'static P = Box::leak(Box::new(crate::config::init::<P>(&config)?));
        INSTANCE.with(|slot| slot.set(Some(plugin)));
        Ok(wit::PluginInfo {
            stages: wit::Stages::from_bits_retain(plugin.stages().bits()),
            body_access: wit::BodyAccess::from_bits_retain(plugin.body_access().bits()),
        })
    }

    fn on_method_request(request: &wit::Request, context: &wit::Context) -> wit::Action {
        let plugin = instance::<P>("on-method-request");
        let mut request = Request::new(RequestHandle(request));
        let mut context = Context::new(ContextHandle(context));
        plugin.on_method_request(&mut request, &mut context).into()
    }

    fn on_integration_request(request: &wit::Request, context: &wit::Context) -> wit::Action {
        let plugin = instance::<P>("on-integration-request");
        let mut request = Request::new(RequestHandle(request));
        let mut context = Context::new(ContextHandle(context));
        plugin
            .on_integration_request(&mut request, &mut context)
            .into()
    }

    fn on_integration_response(
        request: &wit::Request,
        response: &wit::Response,
        context: &wit::Context,
    ) -> wit::Action {
        let plugin = instance::<P>("on-integration-response");
        let request = Request::new(RequestHandle(request));
        let mut response = Response::new(ResponseHandle(response));
        let mut context = Context::new(ContextHandle(context));
        plugin
            .on_integration_response(&request, &mut response, &mut context)
            .into()
    }

    fn on_method_response(
        request: &wit::Request,
        response: &wit::Response,
        context: &wit::Context,
    ) -> wit::Action {
        let plugin = instance::<P>("on-method-response");
        let request = Request::new(RequestHandle(request));
        let mut response = Response::new(ResponseHandle(response));
        let mut context = Context::new(ContextHandle(context));
        plugin
            .on_method_response(&request, &mut response, &mut context)
            .into()
    }

    fn on_log(request: &wit::Request, response: &wit::Response, context: &wit::Context) {
        let plugin = instance::<P>("on-log");
        let request = Request::new(RequestHandle(request));
        let response = Response::new(ResponseHandle(response));
        let context = Context::new(ContextHandle(context));
        plugin.on_log(&request, &response, &context);
    }
}
