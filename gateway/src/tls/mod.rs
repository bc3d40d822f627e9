//! TLS with rustls: the listeners' server configs (certificates chosen by SNI, optional client
//! certificates), the identity a verified client certificate carries into the request context,
//! and the client configs `https` upstreams are reached with.
//!
//! Everything here is built while a config is validated, from the PEM files the config names,
//! so a bad file fails the load or reload with its path and the key that names it, and a
//! snapshot that goes live carries ready-to-use rustls configs. Certificate files are watched
//! like the rest of the config: a renewed certificate goes live with the next snapshot.
//!
//! rustls runs with the `ring` provider, TLS 1.2 and 1.3 only, and that provider's suites —
//! all ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305).

mod client;
mod dev_cert;
mod identity;
mod pem;
mod server;

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

pub use client::{UpstreamTlsError, upstream_client_config};
pub use dev_cert::{DevCertFiles, write_dev_certificates};
pub use identity::{ClientIdentity, FORWARDED_IDENTITY_HEADERS, TlsInfo};
pub use pem::{read_certificates, read_private_key, read_roots};
pub use server::{ServerTlsError, ServerTlsSettings, server_config};

/// The crypto provider every TLS config of the gateway uses: rustls's `ring` provider.
///
/// Passed explicitly rather than installed as the process default, so no other crate's
/// choice can change what the gateway negotiates.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}
