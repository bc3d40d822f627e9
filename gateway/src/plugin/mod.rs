//! The plugin host: runs plugins through their lifecycle.
//!
//! - [`PluginEngine`] — the one wasmtime engine (pooling allocator, epoch deadlines) and the
//!   compiled-component cache;
//! - [`CompiledPlugin`] — a component compiled once per content digest and pre-linked;
//! - [`ConfiguredPlugin`] — a plugin definition with its config, what it declared at `init`, and
//!   its pool of initialised instances;
//! - `PluginInstance` — one store and instance; a call lends it the [`Exchange`] under a deadline
//!   and a memory cap. A failed instance is discarded. A plugin whose imports never wait (the
//!   shared store counts as not waiting when it is the memory store) is called synchronously,
//!   on the worker thread without a fiber ([`CallMode`]); the others on a fiber, so a host call
//!   that waits (Redis) frees the thread meanwhile.
//!
//! The exchange a call is lent belongs to the request pipeline ([`crate::exchange`]).

mod bindings;
mod budget;
mod capabilities;
mod compile;
mod configure;
mod documents;
mod engine;
mod epoch_ticker;
mod error;
mod host;
mod instance;
mod limits;
mod own_metrics;
mod sync_io;
mod sync_store;

pub use compile::{CallMode, CompiledPlugin};
pub use configure::{ConfiguredPlugin, INIT_DEADLINE, PluginCall};
pub use documents::{Documents, MAX_DOCUMENT_BYTES, MIN_REQUESTED_REFRESH_INTERVAL};
pub use engine::PluginEngine;
pub use error::{PluginFailure, PluginLoadError};
pub use instance::StageAction;
pub use own_metrics::{MAX_LABEL_VALUE_BYTES, MAX_LABELS, MAX_SERIES_PER_PLUGIN};
