//! The rustls client configs `https` upstreams are reached with: trusted roots (the system's
//! or a configured CA) and, for upstream mutual TLS, the gateway's own certificate.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// Why an upstream's client config could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamTlsError {
    /// No CA is configured and the system has no root certificates.
    #[error(
        "the system has no root certificates (looked where the OS keeps them, e.g. \
         /etc/ssl/certs; {0})"
    )]
    NoSystemRoots(String),
    /// The client certificate and key do not fit together.
    #[error("unusable client certificate: {0}")]
    ClientCertificate(String),
}

/// A client config trusting `roots` (`None`: the system's root certificates), presenting
/// `client_certificate` when the upstream asks for one. (ALPN is left to the connector.)
pub fn upstream_client_config(
    roots: Option<RootCertStore>,
    client_certificate: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, UpstreamTlsError> {
    let roots = match roots {
        Some(roots) => Arc::new(roots),
        None => system_roots()?,
    };
    let builder = ClientConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots);
    let config = match client_certificate {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| UpstreamTlsError::ClientCertificate(e.to_string()))?,
    };
    Ok(config)
}

/// The OS trust store, read once per process.
fn system_roots() -> Result<Arc<RootCertStore>, UpstreamTlsError> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                let detail = if errors.is_empty() {
                    "none found".to_owned()
                } else {
                    errors.join("; ")
                };
                return Err(detail);
            }
            Ok(Arc::new(roots))
        })
        .clone()
        .map_err(UpstreamTlsError::NoSystemRoots)
}
