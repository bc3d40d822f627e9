//! A listener's rustls server config: the certificate chosen by SNI, TLS versions, ALPN and
//! the client certificate verifier.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::config::ClientAuthMode;

/// What a listener's TLS is built from (files already read).
pub struct ServerTlsSettings {
    /// Certificate chains with their keys; the first is served when SNI matches none.
    pub certificates: Vec<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// Only TLS 1.3 (`false`: TLS 1.2 and 1.3).
    pub tls13_only: bool,
    /// Client certificates: required or optional, and the CAs they must chain to.
    pub client_auth: Option<(ClientAuthMode, RootCertStore)>,
}

/// Why a server config could not be built; `certificate` is the index of the offending
/// entry in `certificates`, when one is to blame.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServerTlsError {
    /// The `certificates` entry at fault, if any.
    pub certificate: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Builds the rustls server config for a listener: TLS 1.2+ (or 1.3 only), ALPN `h2` then
/// `http/1.1`, stateless session tickets, certificates chosen by SNI.
pub fn server_config(settings: ServerTlsSettings) -> Result<ServerConfig, ServerTlsError> {
    let provider = super::provider();
    let resumption = Resumption::for_settings(&settings).map_err(|message| ServerTlsError {
        certificate: None,
        message,
    })?;
    let mut resolver = SniResolver::default();
    for (index, (chain, key)) in settings.certificates.into_iter().enumerate() {
        let fail = |message: String| ServerTlsError {
            certificate: Some(index),
            message,
        };
        let names = dns_names(&chain[0]).map_err(&fail)?;
        let key = CertifiedKey::from_der(chain, key, &provider)
            .map_err(|e| fail(format!("the key does not fit the certificate: {e}")))?;
        resolver.add(Arc::new(key), names);
    }
    let versions: &[&SupportedProtocolVersion] = if settings.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| ServerTlsError {
            certificate: None,
            message: e.to_string(),
        })?;
    let builder = match settings.client_auth {
        None => builder.with_no_client_auth(),
        Some((mode, roots)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = match mode {
                ClientAuthMode::Required => verifier,
                ClientAuthMode::Optional => verifier.allow_unauthenticated(),
            };
            let verifier = verifier.build().map_err(|e| ServerTlsError {
                certificate: None,
                message: format!("unusable client CA: {e}"),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ticketer = resumption.ticketer;
    config.session_storage = resumption.cache;
    Ok(config)
}

/// Session resumption state (ticket keys and the session-id cache), shared by every server
/// config built from the same certificates, keys, client CAs and versions: a reload that
/// leaves a listener's TLS alone keeps its clients' sessions resumable, while a changed
/// certificate or client CA starts afresh (a session never outlives the trust it was made
/// under).
#[derive(Clone)]
struct Resumption {
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
    cache: Arc<dyn rustls::server::StoresServerSessions>,
}

/// How many distinct TLS setups keep their resumption state (the oldest is dropped).
const KEPT_RESUMPTION_STATES: usize = 16;

impl Resumption {
    fn for_settings(settings: &ServerTlsSettings) -> Result<Resumption, String> {
        use sha2::{Digest, Sha256};
        static KEPT: std::sync::Mutex<Vec<([u8; 32], Resumption)>> =
            std::sync::Mutex::new(Vec::new());
        let mut digest = Sha256::new();
        for (chain, key) in &settings.certificates {
            for certificate in chain {
                digest.update(certificate.as_ref());
            }
            digest.update(key.secret_der());
        }
        if let Some((mode, roots)) = &settings.client_auth {
            digest.update([matches!(mode, ClientAuthMode::Required) as u8]);
            for anchor in &roots.roots {
                digest.update(anchor.subject.as_ref());
                digest.update(anchor.subject_public_key_info.as_ref());
            }
        }
        digest.update([settings.tls13_only as u8]);
        let digest: [u8; 32] = digest.finalize().into();

        let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(i) = kept.iter().position(|(d, _)| *d == digest) {
            let entry = kept.remove(i);
            let resumption = entry.1.clone();
            kept.push(entry);
            return Ok(resumption);
        }
        let ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| format!("cannot set up session tickets: {e}"))?;
        let resumption = Resumption {
            ticketer,
            cache: rustls::server::ServerSessionMemoryCache::new(1024),
        };
        if kept.len() == KEPT_RESUMPTION_STATES {
            kept.remove(0);
        }
        kept.push((digest, resumption.clone()));
        Ok(resumption)
    }
}

/// The DNS names a leaf certificate is for (its DNS subject alternative names).
fn dns_names(leaf: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("the first certificate cannot be parsed: {e}"))?;
    let names = certificate
        .subject_alternative_name()
        .map_err(|e| format!("the certificate's subject alternative names are invalid: {e}"))?
        .map(|extension| {
            extension
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => {
                        Some(dns.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(names)
}

/// Picks a certificate by the name the client asked for (SNI): an exact DNS name first, then
/// a wildcard one level up (`*.example.com`), then the first certificate configured.
#[derive(Debug, Default)]
struct SniResolver {
    exact: HashMap<String, Arc<CertifiedKey>>,
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    /// Adds `key` for `names`; a name an earlier certificate has keeps the earlier one.
    fn add(&mut self, key: Arc<CertifiedKey>, names: Vec<String>) {
        for name in names {
            let table = match name.strip_prefix("*.") {
                Some(parent) => self.wildcard.entry(parent.to_owned()),
                None => self.exact.entry(name),
            };
            table.or_insert_with(|| key.clone());
        }
        self.default.get_or_insert(key);
    }

    fn lookup(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let by_name = server_name.and_then(|name| {
            let name = name.to_ascii_lowercase();
            self.exact.get(&name).cloned().or_else(|| {
                let (_, parent) = name.split_once('.')?;
                self.wildcard.get(parent).cloned()
            })
        });
        by_name.or_else(|| self.default.clone())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.lookup(hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Arc<CertifiedKey> {
        let generated = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let der = PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into());
        let chain = vec![generated.cert.der().clone()];
        Arc::new(CertifiedKey::from_der(chain, der, &crate::tls::provider()).unwrap())
    }

    #[test]
    fn sni_picks_exact_then_wildcard_then_the_first_certificate() {
        let (a, b, wild) = (key("a.test"), key("b.test"), key("*.apps.test"));
        let mut resolver = SniResolver::default();
        resolver.add(a.clone(), vec!["a.test".into()]);
        resolver.add(b.clone(), vec!["b.test".into()]);
        resolver.add(wild.clone(), vec!["*.apps.test".into()]);
        let pick = |name| resolver.lookup(name).unwrap();
        assert!(Arc::ptr_eq(&pick(Some("B.TEST")), &b));
        assert!(Arc::ptr_eq(&pick(Some("x.apps.test")), &wild));
        assert!(Arc::ptr_eq(&pick(Some("deep.x.apps.test")), &a));
        assert!(Arc::ptr_eq(&pick(Some("other.test")), &a));
        assert!(Arc::ptr_eq(&pick(None), &a));
    }

    fn settings(generated: &rcgen::CertifiedKey<rcgen::KeyPair>) -> ServerTlsSettings {
        ServerTlsSettings {
            certificates: vec![(
                vec![generated.cert.der().clone()],
                PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into()),
            )],
            tls13_only: false,
            client_auth: None,
        }
    }

    #[test]
    fn resumption_survives_a_rebuild_with_the_same_certificates_only() {
        let one = rcgen::generate_simple_self_signed(vec!["one.test".into()]).unwrap();
        let two = rcgen::generate_simple_self_signed(vec!["two.test".into()]).unwrap();
        let first = server_config(settings(&one)).unwrap();
        let again = server_config(settings(&one)).unwrap();
        let other = server_config(settings(&two)).unwrap();
        assert!(Arc::ptr_eq(&first.ticketer, &again.ticketer));
        assert!(Arc::ptr_eq(&first.session_storage, &again.session_storage));
        assert!(!Arc::ptr_eq(&first.ticketer, &other.ticketer));
    }

    #[test]
    fn a_key_from_another_certificate_is_refused() {
        let one = rcgen::generate_simple_self_signed(vec!["one.test".into()]).unwrap();
        let two = rcgen::generate_simple_self_signed(vec!["two.test".into()]).unwrap();
        let settings = ServerTlsSettings {
            certificates: vec![(
                vec![one.cert.der().clone()],
                PrivateKeyDer::Pkcs8(two.signing_key.serialize_der().into()),
            )],
            tls13_only: false,
            client_auth: None,
        };
        let error = server_config(settings).unwrap_err();
        assert_eq!(error.certificate, Some(0));
        assert!(error.message.contains("does not fit"), "{error}");
    }
}
