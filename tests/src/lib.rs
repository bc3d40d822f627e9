//! Support for the end-to-end tests: a gateway started in-process on a real loopback listener
//! (port 0) from a TOML config, real compiled plugins, an echo upstream, and an HTTP client;
//! for TLS, a certificate authority made up per test and a TLS client ([`tls`]).

pub mod client;
pub mod document_server;
pub mod gateway;
pub mod loopback;
pub mod otlp_collector;
pub mod prometheus;
pub mod tls;
pub mod upstream;

pub use client::{TestResponse, http1, http2};
pub use document_server::DocumentServer;
pub use gateway::{TestGateway, full_config, plugin_path, scratch_dir, write_atomically};
pub use upstream::EchoUpstream;
