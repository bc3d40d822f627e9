//! End-to-end tests: a real gateway listener, real compiled plugins, a real upstream, all on
//! loopback with OS-chosen ports.

mod access_log;
mod authorizers;
mod capabilities;
mod chains;
mod config_errors;
mod conformance;
mod cors;
mod edge;
mod failures;
mod grpc;
mod mapping;
mod metrics;
mod outages;
mod overload;
mod plugin_fixtures;
mod plugin_kit;
mod proxying;
mod record_replay;
mod reload;
mod routing;
mod shared_store;
mod stages;
mod tracing_export;
mod traffic;
mod validation;
mod waf;
