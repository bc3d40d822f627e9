//! `wasmgate dev-cert`: a throwaway certificate authority and certificates signed by it, for
//! trying a TLS (or mutual TLS) listener locally. Never for production: the CA's key is
//! discarded, and the certificates are valid for 30 days.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The files `dev-cert` wrote.
#[derive(Debug)]
pub struct DevCertFiles {
    /// The CA certificate clients trust (`curl --cacert`) and a listener's
    /// `client_auth.ca` names.
    pub ca: PathBuf,
    /// The server certificate and its key, for `[listeners.tls] certificates`.
    pub server: (PathBuf, PathBuf),
    /// A client certificate and its key (`curl --cert --key`), when one was asked for.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// Writes `ca.pem`, `server.pem` / `server-key.pem` (for `names`: DNS names or IP
/// addresses) and, with `client_name`, `client.pem` / `client-key.pem` into `dir`.
pub fn write_dev_certificates(
    dir: &Path,
    names: &[String],
    client_name: Option<&str>,
) -> Result<DevCertFiles, String> {
    let issue = |e: rcgen::Error| format!("cannot issue the certificate: {e}");
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(issue)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wasmgate dev CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    valid_for_30_days(&mut ca_params);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(issue)?)
        .map_err(issue)?;
    let ca_path = dir.join("ca.pem");
    write(&ca_path, &ca.pem())?;

    let mut server = CertificateParams::new(names.to_vec()).map_err(issue)?;
    server.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    valid_for_30_days(&mut server);
    let server_paths = issue_into(dir, "server", &server, &ca)?;

    let client_paths = match client_name {
        None => None,
        Some(name) => {
            let mut client = CertificateParams::new(Vec::<String>::new()).map_err(issue)?;
            client.distinguished_name.push(DnType::CommonName, name);
            client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            valid_for_30_days(&mut client);
            Some(issue_into(dir, "client", &client, &ca)?)
        }
    };
    Ok(DevCertFiles {
        ca: ca_path,
        server: server_paths,
        client: client_paths,
    })
}

fn valid_for_30_days(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(30);
}

/// Signs `params` with `ca` under a new key; writes `<stem>.pem` and `<stem>-key.pem`.
fn issue_into(
    dir: &Path,
    stem: &str,
    params: &CertificateParams,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> Result<(PathBuf, PathBuf), String> {
    let issue = |e: rcgen::Error| format!("cannot issue the certificate: {e}");
    let key = KeyPair::generate().map_err(issue)?;
    let certificate = params.signed_by(&key, ca).map_err(issue)?;
    let cert_path = dir.join(format!("{stem}.pem"));
    let key_path = dir.join(format!("{stem}-key.pem"));
    write(&cert_path, &certificate.pem())?;
    write(&key_path, &key.serialize_pem())?;
    Ok((cert_path, key_path))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_make_a_working_mutual_tls_listener() {
        let dir = std::env::temp_dir().join(format!("wasmgate-dev-cert-{}", std::process::id()));
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let files = write_dev_certificates(&dir, &names, Some("alice")).unwrap();
        let (cert, key) = &files.server;
        let settings = crate::tls::ServerTlsSettings {
            certificates: vec![(
                crate::tls::read_certificates(cert).unwrap(),
                crate::tls::read_private_key(key).unwrap(),
            )],
            tls13_only: false,
            client_auth: Some((
                crate::config::ClientAuthMode::Required,
                crate::tls::read_roots(&files.ca).unwrap(),
            )),
        };
        crate::tls::server_config(settings).unwrap();
        let (client_cert, _) = files.client.unwrap();
        let der = crate::tls::read_certificates(&client_cert).unwrap();
        let identity = crate::tls::ClientIdentity::from_der(&der[0]).unwrap();
        assert_eq!(identity.subject, "CN=alice");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
