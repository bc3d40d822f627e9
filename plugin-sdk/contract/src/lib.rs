//! The rules of the plugin contract, written once for both hosts: the gateway (`plugin/host.rs`)
//! and the SDK's fake host that native plugin tests run on. `wit/plugin.wit` defines the calls;
//! this crate defines what each host accepts, with the message a refused edit carries. A rule
//! changed here changes in both; the conformance test (`tests/suite/conformance.rs`) runs the
//! same edits through the fake host and a compiled component in the gateway and fails on any
//! difference.
//!
//! It also holds what clients see of both (the JSON error body and the stable error type names,
//! [`errors`]), what the shared store refuses and computes for both ([`store`],
//! [`rate_limit`]), and what the `metrics` capability accepts ([`metrics`]).
//!
//! No Wasm dependencies (serde for stage names in config and the error body), so it compiles
//! for the gateway and inside a plugin alike.

pub mod context;
pub mod edits;
pub mod errors;
pub mod headers;
pub mod metrics;
pub mod rate_limit;
pub mod stage;
pub mod store;

pub use stage::{ParseStageError, Stage};
