//! The host behind [`Request`](crate::Request), [`Response`](crate::Response),
//! [`Context`](crate::Context), [`log`](crate::log), [`clock`](crate::clock) and the
//! capabilities ([`rate_limit`](crate::rate_limit), [`kv`](crate::kv),
//! [`metrics`](crate::metrics), [`documents`](crate::documents), [`crypto`](crate::crypto)):
//! the gateway's imports on Wasm, an in-memory fake natively. Both backends expose the same `pub(crate)` API.

#[cfg(not(target_arch = "wasm32"))]
mod fake;
#[cfg(not(target_arch = "wasm32"))]
mod fake_capabilities;
#[cfg(not(target_arch = "wasm32"))]
mod fake_crypto;
#[cfg(not(target_arch = "wasm32"))]
mod fake_env;
#[cfg(target_arch = "wasm32")]
mod guest;
// Compiled natively too, for its tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod header_block;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
mod wasm_capabilities;
#[cfg(target_arch = "wasm32")]
mod wasm_crypto;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use fake::*;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use fake_capabilities::*;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use fake_crypto::*;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use fake_env::*;
#[cfg(target_arch = "wasm32")]
pub use guest::Adapter;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm_capabilities::*;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm_crypto::*;
