//! A TLS client for tests: connects with exactly the versions, SNI, ALPN and client certificate
//! a test asks for, reports what was negotiated, and sends a GET over whichever HTTP version
//! ALPN chose.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, ProtocolVersion, RootCertStore,
    SignatureScheme, SupportedProtocolVersion,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::pki::{IssuedCert, TestPki};
use crate::client::TestResponse;

/// How long [`tls_get`] may take, handshake included, before it gives up with `TimedOut`.
pub const TLS_GET_TIMEOUT: Duration = Duration::from_secs(5);

/// The TLS versions a client offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersions {
    /// TLS 1.2 and TLS 1.3.
    Both,
    /// TLS 1.2 only.
    Only12,
    /// TLS 1.3 only.
    Only13,
}

impl TlsVersions {
    fn rustls(self) -> Vec<&'static SupportedProtocolVersion> {
        match self {
            TlsVersions::Both => vec![&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersions::Only12 => vec![&rustls::version::TLS12],
            TlsVersions::Only13 => vec![&rustls::version::TLS13],
        }
    }
}

/// What a test client offers and trusts. `Default` trusts nothing; start from
/// [`TlsClientOptions::trusting`].
#[derive(Clone, Debug)]
pub struct TlsClientOptions {
    /// The root certificates to trust, PEM-encoded (one or more).
    pub trusted_roots_pem: String,
    /// The name sent as SNI and verified against the server certificate (default
    /// `localhost`). An IP address is verified against IP SANs and sends no SNI.
    pub server_name: String,
    /// The client certificate to present, if any.
    pub client_cert: Option<IssuedCert>,
    /// The TLS versions offered (default both 1.2 and 1.3).
    pub versions: TlsVersions,
    /// The ALPN protocols offered, in order (default `h2`, `http/1.1`).
    pub alpn: Vec<Vec<u8>>,
    /// Whether the server certificate must be valid for `server_name` (default true). Off, the
    /// chain is still verified against the trusted roots: for sending an SNI no certificate
    /// matches and seeing which one the server falls back to.
    pub check_server_name: bool,
}

impl Default for TlsClientOptions {
    fn default() -> Self {
        TlsClientOptions {
            trusted_roots_pem: String::new(),
            server_name: "localhost".to_owned(),
            client_cert: None,
            versions: TlsVersions::Both,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            check_server_name: true,
        }
    }
}

impl TlsClientOptions {
    /// Defaults, trusting `pki`'s CA.
    pub fn trusting(pki: &TestPki) -> Self {
        TlsClientOptions {
            trusted_roots_pem: pki.ca_pem(),
            ..TlsClientOptions::default()
        }
    }

    /// These options with `name` as SNI and verified name.
    pub fn with_server_name(mut self, name: &str) -> Self {
        self.server_name = name.to_owned();
        self
    }

    /// These options presenting `cert` as the client certificate.
    pub fn with_client_cert(mut self, cert: &IssuedCert) -> Self {
        self.client_cert = Some(cert.clone());
        self
    }

    /// These options offering only `versions`.
    pub fn with_versions(mut self, versions: TlsVersions) -> Self {
        self.versions = versions;
        self
    }

    /// These options offering exactly the ALPN `protocols` (e.g. `&["http/1.1"]`).
    pub fn with_alpn(mut self, protocols: &[&str]) -> Self {
        self.alpn = protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
        self
    }

    /// These options accepting a server certificate not valid for `server_name` (still
    /// chaining to the trusted roots).
    pub fn skipping_name_check(mut self) -> Self {
        self.check_server_name = false;
        self
    }

    /// A rustls client config for these options, on the `ring` provider.
    pub fn client_config(&self) -> io::Result<ClientConfig> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.trusted_roots_pem.as_bytes()) {
            roots.add(cert.map_err(invalid)?).map_err(invalid)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions.rustls())
            .map_err(invalid)?;
        let builder = if self.check_server_name {
            builder.with_root_certificates(roots)
        } else {
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(invalid)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerName(verifier)))
        };
        let mut config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some(cert) => {
                let chain = vec![CertificateDer::from(cert.der.clone())];
                let key =
                    PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(invalid)?;
                builder.with_client_auth_cert(chain, key).map_err(invalid)?
            }
        };
        config.alpn_protocols = self.alpn.clone();
        Ok(config)
    }
}

/// A server certificate verifier that checks the chain and signatures like `inner` but accepts
/// a certificate not valid for the name the client asked for.
#[derive(Debug)]
struct AnyServerName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified =
            self.0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verified {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// An established TLS connection, with what the handshake negotiated.
pub struct TlsSession {
    stream: TlsStream<TcpStream>,
}

impl TlsSession {
    /// The negotiated TLS version.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.stream.get_ref().1.protocol_version()
    }

    /// The ALPN protocol the server chose, if any.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// The server's end-entity certificate, DER-encoded.
    pub fn peer_certificate_der(&self) -> Option<Vec<u8>> {
        let certificates = self.stream.get_ref().1.peer_certificates()?;
        certificates.first().map(|cert| cert.to_vec())
    }

    /// The TLS stream, to speak HTTP (or anything) over.
    pub fn into_stream(self) -> TlsStream<TcpStream> {
        self.stream
    }
}

/// Connects to `addr` and completes a TLS handshake with `options`. A server that refuses the
/// handshake is an `Err`. (With TLS 1.3 a server rejecting the client certificate only says so
/// after the client's side of the handshake is done: that shows up on the first read.)
pub async fn tls_connect(addr: SocketAddr, options: &TlsClientOptions) -> io::Result<TlsSession> {
    let connector = TlsConnector::from(Arc::new(options.client_config()?));
    let name = ServerName::try_from(options.server_name.clone()).map_err(invalid)?;
    let tcp = TcpStream::connect(addr).await?;
    let stream = connector.connect(name, tcp).await?;
    Ok(TlsSession { stream })
}

/// Connects with `options`, sends `GET path` with `headers` over HTTP/2 if ALPN chose `h2`
/// (HTTP/1.1 otherwise, with `Host: <server_name>`), and reads the whole response. Any TLS,
/// HTTP or I/O failure is an `Err`; so is taking longer than [`TLS_GET_TIMEOUT`] (`TimedOut`).
pub async fn tls_get(
    addr: SocketAddr,
    options: &TlsClientOptions,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<TestResponse> {
    tokio::time::timeout(TLS_GET_TIMEOUT, get(addr, options, path, headers))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("GET {path} over TLS took over {TLS_GET_TIMEOUT:?}"),
            )
        })?
}

async fn get(
    addr: SocketAddr,
    options: &TlsClientOptions,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<TestResponse> {
    let session = tls_connect(addr, options).await?;
    let http2 = session.alpn().as_deref() == Some(b"h2".as_slice());
    let io = TokioIo::new(session.into_stream());
    let mut request = if http2 {
        Request::get(format!("https://{}{path}", options.server_name))
    } else {
        Request::get(path).header(http::header::HOST, &options.server_name)
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::<Bytes>::new()).map_err(invalid)?;
    let response = if http2 {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(http_failure)?;
        tokio::spawn(connection);
        sender.send_request(request).await
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(http_failure)?;
        tokio::spawn(connection);
        sender.send_request(request).await
    }
    .map_err(http_failure)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(http_failure)?.to_bytes();
    Ok(TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
        version: parts.version,
    })
}

/// An HTTP-level failure as an I/O error whose message carries the whole cause chain (hyper's
/// own message is only "connection error"; the TLS alert is in its sources).
fn http_failure(error: hyper::Error) -> io::Error {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    io::Error::other(message)
}

fn invalid(error: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error)
}
