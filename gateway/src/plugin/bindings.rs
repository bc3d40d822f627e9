//! Host bindings generated from `wit/plugin.wit`, the only definition of the plugin contract.

#![allow(missing_docs, unreachable_pub)]

wasmtime::component::bindgen!({
    world: "wasmgate-plugin",
    path: "../wit",
    exports: { default: async },
    // The shared store may be Redis: its calls await the network (bounded by the store timeout).
    imports: {
        "wasmgate:plugin/rate-limit": async,
        "wasmgate:plugin/kv": async,
        // A handle the instance's table does not hold traps the plugin's call.
        "wasmgate:plugin/crypto": trappable,
    },
    with: {
        "wasmgate:plugin/crypto.key": wasmgate_crypto::VerifyingKey,
    },
});

pub use self::wasmgate::plugin::types::{
    Action, BodyAccess, BodyError, EditError, InitError, PluginInfo, ResponseData, Stages,
};
pub use self::wasmgate::plugin::{clock, crypto, documents, kv, log, metrics, rate_limit, types};
