//! `interface context` of the contract: the per-request key-value bag plugins pass facts in
//! (the gateway's own keys read-only).

use wasmtime::component::Resource;

use super::HostState;
use crate::plugin::bindings::{EditError, types};

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
