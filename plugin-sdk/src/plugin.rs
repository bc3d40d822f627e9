//! The [`Plugin`] trait: one method per stage, each a no-op by default.

use serde::de::DeserializeOwned;

use crate::{Action, BodyAccess, Context, InitError, Request, Response, Stages};

/// A wasmgate plugin.
///
/// The gateway creates instances of the plugin (pooled and reused between requests, or one per
/// request), calls [`init`](Plugin::init) once per instance, then calls the stage methods of
/// the [`stages`](Plugin::stages) the plugin declared, and only those. Stage methods take
/// `&self`: per-request state belongs in the [`Context`], shared state in host capabilities.
///
/// A panic in any method traps the instance: the gateway discards it and, depending on the
/// plugin's failure policy, answers the request with a 500 `PLUGIN_FAILURE` response or skips
/// the plugin.
pub trait Plugin: Sized + 'static {
    /// The plugin's own config section. Deserialised from the gateway config (as JSON) before
    /// [`init`](Plugin::init); unknown keys are rejected. Use [`NoConfig`](crate::NoConfig)
    /// for none.
    type Config: DeserializeOwned;

    /// Validates the config and builds the plugin, once per instance, before any stage call.
    /// An error fails the gateway's (re)load with its message: name the key and say how to fix
    /// it ([`InitError::invalid_config`]).
    fn init(config: Self::Config) -> Result<Self, InitError>;

    /// The stages at which the gateway calls the plugin, evaluated once after `init`. The others
    /// cost nothing.
    fn stages(&self) -> Stages;

    /// The bodies the plugin reads, evaluated once after `init`. Declaring a body makes the
    /// gateway buffer it (up to its cap); reading an undeclared body fails with
    /// [`BodyError::NotDeclared`](crate::BodyError::NotDeclared). Default: none.
    fn body_access(&self) -> BodyAccess {
        BodyAccess::NONE
    }

    /// METHOD REQUEST: the first stage, right after route matching. Authenticate, authorise,
    /// throttle, validate.
    ///
    /// May edit the request and the context. [`Action::Continue`] goes on to the next plugin;
    /// [`Action::Respond`] answers the client at once: the rest of the chain and the backend
    /// call are skipped.
    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let _ = (request, context);
        Action::Continue
    }

    /// INTEGRATION REQUEST: shape the call the backend expects (method, path, query, headers,
    /// body).
    ///
    /// May edit the request and the context. [`Action::Respond`] answers the client without
    /// calling the backend.
    fn on_integration_request(
        &self,
        request: &mut Request<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let _ = (request, context);
        Action::Continue
    }

    /// INTEGRATION RESPONSE: reshape the backend's (or the mock's) answer, map backend errors to
    /// client-facing ones.
    ///
    /// The request is read-only (it has been sent); the response and the context may be edited.
    /// [`Action::Respond`] replaces the response.
    fn on_integration_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let _ = (request, response, context);
        Action::Continue
    }

    /// METHOD RESPONSE: final touches on what the client receives (headers, CORS, stripping
    /// internal headers).
    ///
    /// The request is read-only; the response and the context may be edited.
    /// [`Action::Respond`] replaces the response.
    fn on_method_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let _ = (request, response, context);
        Action::Continue
    }

    /// LOG: after the response has been sent. Everything is read-only: record, count, audit.
    fn on_log(&self, request: &Request<'_>, response: &Response<'_>, context: &Context<'_>) {
        let _ = (request, response, context);
    }
}
