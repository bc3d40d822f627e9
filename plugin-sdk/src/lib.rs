//! Write [wasmgate](https://github.com/wasmgate/wasmgate) plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`]: it reads its typed config in
//! [`Plugin::init`], says at which [`Stages`] it wants to be called, and overrides the stage
//! methods it needs (every other stage is a no-op that the gateway never even calls). One
//! [`export_plugin!`] line turns it into a `wasm32-wasip2` component. The generated bindings of the
//! WIT contract (`wit/plugin.wit`) stay inside this crate.
//!
//! ```text
//!   method request ─► integration request ─► backend ─► integration response ─► method response ─► log
//!   &mut Request        &mut Request                      &Request                 &Request         (all read-only)
//!                                                         &mut Response            &mut Response
//! ```
//!
//! # A complete plugin
//!
//! ```
//! use serde::Deserialize;
//! use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Stages};
//!
//! /// Answers 403 to clients whose `user-agent` contains a blocked word.
//! pub struct BlockAgents {
//!     words: Vec<String>,
//! }
//!
//! /// `config = { words = ["curl", "bot"] }`
//! #[derive(Deserialize)]
//! pub struct Config {
//!     /// Substrings of the user agent that are refused.
//!     words: Vec<String>,
//! }
//!
//! impl Plugin for BlockAgents {
//!     type Config = Config;
//!
//!     fn init(config: Config) -> Result<Self, InitError> {
//!         if config.words.iter().any(String::is_empty) {
//!             return Err(InitError::invalid_config("words", "an empty word would block everyone"));
//!         }
//!         Ok(Self { words: config.words })
//!     }
//!
//!     fn stages(&self) -> Stages {
//!         Stages::METHOD_REQUEST
//!     }
//!
//!     fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
//!         let agent = request.header_str("user-agent").unwrap_or_default();
//!         if self.words.iter().any(|word| agent.contains(word.as_str())) {
//!             return Action::json_error(context, 403, "ACCESS_DENIED", "this client is not allowed");
//!         }
//!         Action::Continue
//!     }
//! }
//!
//! wasmgate_plugin_sdk::export_plugin!(BlockAgents);
//!
//! // Natively, the same code runs against an in-memory fake host:
//! use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
//!
//! let plugin = testing::init::<BlockAgents>(serde_json::json!({ "words": ["curl"] })).unwrap();
//! let mut request = FakeRequest::new("GET", "/").header("user-agent", "curl/8.5");
//! let action = testing::method_request(&plugin, &mut request, &mut FakeContext::new());
//! assert_eq!(action.response().map(|r| r.status), Some(403));
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the crate is a `cdylib`); the
//! component is `target/wasm32-wasip2/release/<crate_name>.wasm`.
//!
//! # Config
//!
//! The gateway passes the plugin's `config` table as JSON (`{}` when there is none). It is
//! deserialised into [`Plugin::Config`] before `init` is called. Unknown keys are rejected even
//! without `#[serde(deny_unknown_fields)]`, and every error names the key path, e.g.
//! ``"`limits.burst`: invalid type: string "x", expected u32"``. Use [`NoConfig`] for a plugin
//! without settings.
//!
//! # Testing
//!
//! On native targets, [`Request`], [`Response`] and [`Context`] are backed by the in-memory fakes
//! of the [`testing`] module, which enforce the host's rules (declared stages and body access,
//! read-only `gateway.` context keys, valid header names and values), so plugin logic is unit
//! tested with plain `cargo test`.

// The `testing` module the docs link to exists on native targets only.
#![cfg_attr(target_arch = "wasm32", allow(rustdoc::broken_intra_doc_links))]

mod action;
pub mod clock;
mod config;
pub mod context;
pub mod crypto;
pub mod documents;
mod error;
pub mod header;
mod host;
pub mod kv;
pub mod log;
pub mod metrics;
mod plugin;
pub mod rate_limit;
mod request;
mod response;
mod stages;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use action::{Action, ResponseData};
pub use config::NoConfig;
pub use context::Context;
pub use error::{BodyError, EditError, InitError, StoreError};
pub use plugin::Plugin;
pub use request::Request;
pub use response::Response;
pub use stages::{BodyAccess, ParseStageError, Stage, Stages};
/// The JSON error body and the stable error type names the gateway and the built-in plugins
/// answer with (`errors::gateway::*`, `errors::plugins::*`), for [`Action::error`].
pub use wasmgate_plugin_contract::errors;

/// Guest bindings generated from `wit/plugin.wit`. Not part of the API: used by [`export_plugin!`].
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, unreachable_pub, clippy::all)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "wasmgate-plugin",
        ownership: Borrowing { duplicate_if_necessary: true },
        pub_export_macro: true,
        export_macro_name: "__export_guest",
        default_bindings_module: "wasmgate_plugin_sdk::__bindings",
    });
}

/// What [`export_plugin!`] expands to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::host::Adapter;

    /// Fails to compile, pointing at the macro argument, when the type is not a [`Plugin`](crate::Plugin).
    pub const fn assert_plugin<P: crate::Plugin>() {}
}

/// Exports a [`Plugin`] as the component's `wasmgate:plugin/plugin` implementation.
///
/// Write it once, at the root of the plugin crate (a `cdylib`):
///
/// ```
/// # use wasmgate_plugin_sdk::{InitError, NoConfig, Plugin, Stages};
/// pub struct Noop;
///
/// impl Plugin for Noop {
///     type Config = NoConfig;
///     fn init(_: NoConfig) -> Result<Self, InitError> {
///         Ok(Noop)
///     }
///     fn stages(&self) -> Stages {
///         Stages::LOG
///     }
/// }
///
/// wasmgate_plugin_sdk::export_plugin!(Noop);
/// ```
///
/// The generated `init` export deserialises the JSON config into [`Plugin::Config`], calls
/// [`Plugin::init`], keeps the instance for the stage calls and reports [`Plugin::stages`] and
/// [`Plugin::body_access`] to the host. A stage called before a successful `init` traps with a
/// message saying so; a panic in the plugin is written to the gateway log (level error) and traps.
///
/// On native targets the macro only checks that the type implements [`Plugin`], so the plugin
/// crate builds and is tested with plain `cargo test`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty $(,)?) => {
        const _: () = $crate::__private::assert_plugin::<$plugin>();

        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code, missing_docs, unreachable_pub, non_camel_case_types)]
        const _: () = {
            type __WasmgatePluginExport = $crate::__private::Adapter<$plugin>;
            $crate::__bindings::__export_guest!(
                __WasmgatePluginExport with_types_in $crate::__bindings
            );
        };
    };
}
