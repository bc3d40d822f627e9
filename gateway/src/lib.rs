//! wasmgate: a programmable API gateway whose every request stage runs a chain of sandboxed
//! WebAssembly plugins.
//!
//! ```text
//! client ─► listener ─► route match ─► METHOD REQUEST chain ─► INTEGRATION REQUEST chain
//!        ─► integration (http upstream | mock) ─► INTEGRATION RESPONSE chain
//!        ─► METHOD RESPONSE chain ─► client ─► LOG chain
//! ```
//!
//! - [`config`] — TOML surface types and the validated model;
//! - [`plugin`] — the Wasm plugin host (engine, compile, configure, instantiate, call);
//! - [`snapshot`] — one immutable generation of routes, chains and plugins;
//! - [`pipeline`] — the request lifecycle above, one file per phase;
//! - [`exchange`] — the request, response and context bag a request carries through it;
//! - [`routing`], [`integration`], [`gateway_response`], [`body`] — its parts;
//! - [`store`] — the shared state behind the `rate-limit` and `kv` plugin capabilities;
//! - [`reload`] — hot reload (file watch, `SIGHUP`, admin API) by snapshot swap;
//! - [`gateway`] — start, serve, check.

pub mod access_log;
mod admin;
pub mod allocator;
pub mod api_key;
pub mod body;
pub mod config;
pub mod exchange;
pub mod file_digest;
pub mod gateway;
pub mod gateway_response;
pub mod integration;
pub mod line_writer;
pub mod metrics;
pub mod otel;
pub mod pipeline;
pub mod plugin;
pub mod plugin_kit;
pub mod record;
pub mod reload;
pub mod routing;
mod server;
pub mod snapshot;
pub mod stages;
pub mod store;
pub mod tls;
pub mod tracecontext;
mod watch;

pub use gateway::{CheckReport, RunningGateway, StartError, check};
