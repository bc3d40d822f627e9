//! The per-request context bag, and the keys with a meaning (the contract's, shared with the gateway).

use crate::EditError;
use crate::host::ContextHandle;

pub use wasmgate_plugin_contract::context::*;

/// The per-request context bag: string values shared by every plugin down the chain, visible
/// to later stages and to the access log (an authorizer's principal, an API key id, …).
///
/// Keys under `gateway.` ([`GATEWAY_PREFIX`]) are filled in by the gateway and read-only.
/// Editing needs `&mut Context`, which every stage but the log gets. Prefix your own keys with
/// your plugin's name, e.g. `auth.principal`.
pub struct Context<'a> {
    handle: ContextHandle<'a>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(handle: ContextHandle<'a>) -> Self {
        Context { handle }
    }

    /// The value under a key.
    pub fn get(&self, key: &str) -> Option<String> {
        self.handle.get(key)
    }

    /// Sets a value. Fails with [`EditError::ReadOnly`] for keys under `gateway.`.
    pub fn set(&mut self, key: &str, value: impl AsRef<str>) -> Result<(), EditError> {
        self.handle.set(key, value.as_ref())
    }

    /// Removes a value (no error when it is absent). Fails with [`EditError::ReadOnly`] for keys
    /// under `gateway.`.
    pub fn remove(&mut self, key: &str) -> Result<(), EditError> {
        self.handle.remove(key)
    }

    /// Every key present.
    pub fn keys(&self) -> Vec<String> {
        self.handle.keys()
    }

    /// The request id ([`REQUEST_ID`]).
    pub fn request_id(&self) -> Option<String> {
        self.get(REQUEST_ID)
    }

    /// The id of the matched route ([`ROUTE_ID`]).
    pub fn route_id(&self) -> Option<String> {
        self.get(ROUTE_ID)
    }

    /// The client's IP address ([`CLIENT_IP`]).
    pub fn client_ip(&self) -> Option<String> {
        self.get(CLIENT_IP)
    }

    /// The route's API version ([`API_VERSION`]), when it has one.
    pub fn api_version(&self) -> Option<String> {
        self.get(API_VERSION)
    }
}
