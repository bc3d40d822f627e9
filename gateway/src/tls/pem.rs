//! Reading PEM files: certificate chains, private keys and CA bundles, with messages that say
//! which file and what is wrong with it.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in the PEM file at `path`, in file order (a chain: leaf first).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| describe(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| describe(path, e))?;
    if certificates.is_empty() {
        return Err(format!(
            "`{shown}` holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block)"
        ));
    }
    Ok(certificates)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in the PEM file at `path`.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => format!(
            "`{}` holds no PEM private key (no `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` \
             or `EC PRIVATE KEY` block)",
            path.display()
        ),
        e => describe(path, e),
    })
}

/// The CA certificates in the PEM file at `path`, as trust anchors.
pub fn read_roots(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(path)? {
        roots
            .add(certificate)
            .map_err(|e| format!("`{}` holds an unusable CA certificate: {e}", path.display()))?;
    }
    Ok(roots)
}

fn describe(path: &Path, error: pem::Error) -> String {
    let shown = path.display();
    match error {
        pem::Error::Io(e) => format!("cannot read `{shown}`: {e}"),
        e => format!("`{shown}` is not valid PEM: {e}"),
    }
}
