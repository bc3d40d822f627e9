//! TLS for the end-to-end tests: a certificate authority made up per test (no committed keys),
//! a TLS client that reports what it negotiated, an HTTPS echo upstream, and a hand-built
//! TLS 1.1 ClientHello. Everything uses rustls's `ring` provider explicitly, never the process
//! default.

mod client;
mod pki;
mod tls11;
mod upstream;

pub use client::{
    TLS_GET_TIMEOUT, TlsClientOptions, TlsSession, TlsVersions, tls_connect, tls_get,
};
pub use pki::{CA_NAME, FOREIGN_CA_NAME, IssuedCert, TestPki};
pub use tls11::{Tls11Outcome, probe_tls11};
pub use upstream::{TlsEchoUpstream, server_config};
