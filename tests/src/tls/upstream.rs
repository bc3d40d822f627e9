//! An HTTPS upstream on loopback that echoes each request as JSON, including the common name of
//! the client certificate it verified, so tests can see what the gateway sent over TLS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::pki::{IssuedCert, TestPki};

/// A running HTTPS echo upstream. Every request gets 200 and
/// `{"method", "path", "headers": {name: value}, "client_cert_cn": "<CN>" | null}` (repeated
/// headers joined with `, `).
pub struct TlsEchoUpstream {
    /// Its address (127.0.0.1, an OS-chosen port).
    pub address: SocketAddr,
    /// The certificate it serves: SANs `localhost` and `127.0.0.1`, signed by the pki's CA.
    pub certificate: IssuedCert,
    task: tokio::task::JoinHandle<()>,
}

impl TlsEchoUpstream {
    /// Starts the upstream with a certificate from `pki`, offering `h2` and `http/1.1`. With
    /// `require_client_cert`, handshakes without a client certificate signed by the pki's CA
    /// fail.
    pub async fn start(pki: &TestPki, require_client_cert: bool) -> TlsEchoUpstream {
        let certificate = pki.server_cert(&["localhost", "127.0.0.1"]);
        let client_ca = require_client_cert.then(|| pki.ca_pem());
        let config = server_config(&certificate, client_ca.as_deref());
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind TLS upstream");
        let address = listener.local_addr().expect("TLS upstream address");
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let client_cert_cn = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|cert| common_name(cert));
                    let service = service_fn(move |request| echo(request, client_cert_cn.clone()));
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TlsEchoUpstream {
            address,
            certificate,
            task,
        }
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.address.port())
    }
}

impl Drop for TlsEchoUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A rustls server config (ring provider, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`) serving
/// `certificate`; with `client_ca_pem`, client certificates signed by it are required.
pub fn server_config(certificate: &IssuedCert, client_ca_pem: Option<&str>) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions");
    let builder = match client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.expect("CA PEM")).expect("a usable CA");
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    let chain = vec![CertificateDer::from(certificate.der.clone())];
    let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.as_bytes()).expect("key PEM");
    let mut config = builder
        .with_single_cert(chain, key)
        .expect("certificate matches key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The subject common name of a DER certificate.
fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

async fn echo(
    request: Request<Incoming>,
    client_cert_cn: Option<String>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut headers = serde_json::Map::new();
    for name in request.headers().keys() {
        let values: Vec<String> = request
            .headers()
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.insert(name.as_str().to_owned(), values.join(", ").into());
    }
    let echo = serde_json::json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "headers": headers,
        "client_cert_cn": client_cert_cn,
        "version": format!("{:?}", request.version()),
    });
    let response = Response::builder()
        .header("content-type", "application/json")
        .header("x-upstream", "tls-echo")
        .body(Full::new(Bytes::from(echo.to_string())))
        .expect("valid response");
    Ok(response)
}
