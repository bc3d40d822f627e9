//! What a TLS connection tells the request pipeline: the protocol, the name the client asked
//! for, and the identity of a verified client certificate — put into the request context for
//! authorizer plugins, and optionally forwarded upstream as headers.

use http::{HeaderMap, HeaderName, HeaderValue};
use rustls::ServerConnection;
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;

use crate::exchange::ContextBag;

/// The identity in a client certificate the listener verified against its client CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The subject's distinguished name, e.g. `CN=alice, O=Example`.
    pub subject: String,
    /// The subject alternative names, typed and comma-separated, e.g.
    /// `URI:spiffe://example.org/alice, DNS:alice.example.org`.
    pub sans: String,
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub fingerprint_sha256: String,
    /// The serial number, lower-case hex.
    pub serial: String,
}

impl ClientIdentity {
    /// The identity in the DER certificate `der`; `None` if it cannot be parsed (rustls has
    /// verified it already, so that does not happen with a verified certificate).
    pub fn from_der(der: &[u8]) -> Option<ClientIdentity> {
        let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
        let sans = certificate
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|extension| {
                let names = extension.value.general_names.iter();
                names.filter_map(describe_name).collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .join(", ");
        Some(ClientIdentity {
            subject: certificate.subject().to_string(),
            sans,
            fingerprint_sha256: hex::encode(Sha256::digest(der)),
            serial: hex::encode(certificate.raw_serial()),
        })
    }
}

fn describe_name(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
        GeneralName::URI(uri) => Some(format!("URI:{uri}")),
        GeneralName::RFC822Name(email) => Some(format!("email:{email}")),
        GeneralName::IPAddress(bytes) => {
            let ip = match bytes.len() {
                4 => std::net::IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?),
                16 => std::net::IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?),
                _ => return None,
            };
            Some(format!("IP:{ip}"))
        }
        _ => None,
    }
}

/// The headers a verified client identity is forwarded upstream in (with `forward_headers`);
/// copies a client sent are removed first, so a backend can trust them.
pub const FORWARDED_IDENTITY_HEADERS: [&str; 4] = [
    "x-client-cert-subject",
    "x-client-cert-sans",
    "x-client-cert-fingerprint",
    "x-client-cert-serial",
];

/// What a finished TLS handshake established, shared by every request on the connection.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: &'static str,
    /// The server name the client asked for (SNI), if it sent one.
    pub server_name: Option<String>,
    /// The verified client certificate's identity, if the client presented one.
    pub client: Option<ClientIdentity>,
}

impl TlsInfo {
    /// Context key: `TLSv1.2` or `TLSv1.3`.
    pub const PROTOCOL: &'static str = wasmgate_plugin_contract::context::TLS_PROTOCOL;
    /// Context key: the SNI name.
    pub const SERVER_NAME: &'static str = wasmgate_plugin_contract::context::TLS_SERVER_NAME;
    /// Context key: the client certificate's subject.
    pub const CLIENT_SUBJECT: &'static str = wasmgate_plugin_contract::context::TLS_CLIENT_SUBJECT;
    /// Context key: the client certificate's subject alternative names.
    pub const CLIENT_SANS: &'static str = wasmgate_plugin_contract::context::TLS_CLIENT_SANS;
    /// Context key: the client certificate's SHA-256 fingerprint.
    pub const CLIENT_FINGERPRINT: &'static str =
        wasmgate_plugin_contract::context::TLS_CLIENT_FINGERPRINT;
    /// Context key: the client certificate's serial number.
    pub const CLIENT_SERIAL: &'static str = wasmgate_plugin_contract::context::TLS_CLIENT_SERIAL;

    /// What `connection` negotiated. Only called once the handshake is done.
    pub fn from_connection(connection: &ServerConnection) -> TlsInfo {
        let protocol = match connection.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "TLSv1.3",
        };
        let client = connection
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| ClientIdentity::from_der(leaf));
        TlsInfo {
            protocol,
            server_name: connection.server_name().map(str::to_owned),
            client,
        }
    }

    /// Puts the connection's facts into a request's context (`gateway.tls.*` keys, which
    /// plugins can read but not change).
    pub fn fill_context(&self, context: &mut ContextBag) {
        context.insert(Self::PROTOCOL, self.protocol.to_owned());
        if let Some(name) = &self.server_name {
            context.insert(Self::SERVER_NAME, name.clone());
        }
        if let Some(client) = &self.client {
            context.insert(Self::CLIENT_SUBJECT, client.subject.clone());
            context.insert(Self::CLIENT_SANS, client.sans.clone());
            context.insert(Self::CLIENT_FINGERPRINT, client.fingerprint_sha256.clone());
            context.insert(Self::CLIENT_SERIAL, client.serial.clone());
        }
    }

    /// Replaces any client-sent `x-client-cert-*` headers with the verified identity (none
    /// when the client presented no certificate).
    pub fn forward_identity(&self, headers: &mut HeaderMap) {
        for name in FORWARDED_IDENTITY_HEADERS {
            headers.remove(name);
        }
        let Some(client) = &self.client else { return };
        let values = [
            &client.subject,
            &client.sans,
            &client.fingerprint_sha256,
            &client.serial,
        ];
        for (name, value) in FORWARDED_IDENTITY_HEADERS.into_iter().zip(values) {
            // A subject with bytes a header cannot carry is left out rather than mangled.
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_subject_sans_serial_and_fingerprint() {
        let mut params = rcgen::CertificateParams::new(vec!["alice.example.org".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "alice");
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://example.org/alice".try_into().unwrap(),
        ));
        params.serial_number = Some(rcgen::SerialNumber::from(vec![0x01, 0xab]));
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        let identity = ClientIdentity::from_der(certificate.der()).unwrap();
        assert_eq!(identity.subject, "CN=alice");
        assert_eq!(
            identity.sans,
            "DNS:alice.example.org, URI:spiffe://example.org/alice"
        );
        assert_eq!(identity.serial, "01ab");
        assert_eq!(
            identity.fingerprint_sha256,
            hex::encode(Sha256::digest(certificate.der()))
        );
    }

    #[test]
    fn forwarding_replaces_client_sent_identity_headers() {
        let info = TlsInfo {
            protocol: "TLSv1.3",
            server_name: None,
            client: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-client-cert-subject",
            HeaderValue::from_static("CN=forged"),
        );
        info.forward_identity(&mut headers);
        assert!(headers.is_empty());
    }
}
