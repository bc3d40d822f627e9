//! A throwaway public-key infrastructure, generated fresh for each test: a CA that issues server
//! and client certificates, and a foreign CA whose certificates nobody should trust.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::gateway::write_atomically;

/// The common name of [`TestPki`]'s trusted CA.
pub const CA_NAME: &str = "wasmgate test CA";
/// The common name of [`TestPki`]'s foreign (untrusted) CA.
pub const FOREIGN_CA_NAME: &str = "wasmgate foreign CA";

/// Two certificate authorities made up for one test: the CA the gateway and clients are told to
/// trust, and a foreign one nobody trusts. Nothing is committed to the repository.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    foreign: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, as issued by a [`TestPki`].
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// The certificate, PEM-encoded.
    pub cert_pem: String,
    /// The private key, PEM-encoded (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER-encoded: what a TLS peer sees on the wire.
    pub der: Vec<u8>,
}

impl IssuedCert {
    /// Lowercase hex SHA-256 over the DER certificate, as the gateway reports it.
    pub fn fingerprint_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// Writes `dir/<stem>.pem` (certificate) and `dir/<stem>-key.pem` (key), each by an atomic
    /// rename so a watching gateway never reads half a file, and returns those two paths.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.pem"));
        let key = dir.join(format!("{stem}-key.pem"));
        write_atomically(&cert, &self.cert_pem);
        write_atomically(&key, &self.key_pem);
        (cert, key)
    }
}

impl TestPki {
    /// Generates the trusted CA ("wasmgate test CA") and the foreign CA.
    pub fn new() -> TestPki {
        TestPki {
            ca: authority(CA_NAME),
            foreign: authority(FOREIGN_CA_NAME),
        }
    }

    /// The trusted CA's certificate, PEM-encoded.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The foreign CA's certificate, PEM-encoded.
    pub fn foreign_ca_pem(&self) -> String {
        self.foreign.pem()
    }

    /// A server certificate signed by the CA, valid from a day ago to a year ahead. Each name
    /// becomes an IP SAN if it parses as an IP address, a DNS SAN otherwise; the first name is
    /// also the common name.
    pub fn server_cert(&self, names: &[&str]) -> IssuedCert {
        let mut params = leaf(
            names.first().copied().unwrap_or("server"),
            days(-1),
            days(365),
        );
        params.subject_alt_names = names.iter().map(|name| san(name)).collect();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        issue(&params, &self.ca)
    }

    /// A client certificate for `common_name` signed by the CA, valid now, with an optional URI
    /// SAN (e.g. `spiffe://example.test/alice`).
    pub fn client_cert(&self, common_name: &str, uri_san: Option<&str>) -> IssuedCert {
        let mut params = client_params(common_name, days(-1), days(365));
        params.subject_alt_names = uri_san
            .map(|uri| SanType::URI(uri.try_into().expect("an ASCII URI")))
            .into_iter()
            .collect();
        issue(&params, &self.ca)
    }

    /// A client certificate signed by the CA that expired yesterday (valid from 10 days ago).
    pub fn expired_client_cert(&self, common_name: &str) -> IssuedCert {
        issue(&client_params(common_name, days(-10), days(-1)), &self.ca)
    }

    /// A client certificate signed by the foreign CA, valid now.
    pub fn foreign_client_cert(&self, common_name: &str) -> IssuedCert {
        issue(
            &client_params(common_name, days(-1), days(365)),
            &self.foreign,
        )
    }
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

/// A self-signed CA named `name`, valid from a month ago to a year ahead.
fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = days(-30);
    params.not_after = days(365);
    let key = KeyPair::generate().expect("generate a CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-sign the CA")
}

/// End-entity parameters: subject `CN=<name>`, the given validity, a digital-signature key.
fn leaf(name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.not_before = not_before;
    params.not_after = not_after;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params
}

/// Client-certificate parameters: a leaf usable for TLS client authentication.
fn client_params(
    name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = leaf(name, not_before, not_after);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

/// Signs `params` (with a fresh key) by `issuer`.
fn issue(params: &CertificateParams, issuer: &CertifiedIssuer<'static, KeyPair>) -> IssuedCert {
    let key = KeyPair::generate().expect("generate a key");
    let cert = params
        .signed_by(&key, issuer)
        .expect("sign the certificate");
    IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
    }
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

fn san(name: &str) -> SanType {
    match name.parse::<IpAddr>() {
        Ok(ip) => SanType::IpAddress(ip),
        Err(_) => SanType::DnsName(name.try_into().expect("an ASCII DNS name")),
    }
}

/// Now, shifted by `n` days (negative: in the past).
fn days(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(n)
}
