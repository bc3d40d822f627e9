//! Host bindings generated from `wit/plugin.wit`, the only definition of the plugin contract.

#![allow(missing_docs, unreachable_pub)]

wasmtime::component::bindgen!({
    world: "wasmgate-plugin",
    path: "../wit",
    exports: { default: async },
});

pub use self::wasmgate::plugin::types::{
    Action, BodyAccess, BodyError, EditError, InitError, PluginInfo, ResponseData, Stages,
};
pub use self::wasmgate::plugin::{clock, log, types};
