//! A hand-built TLS 1.1 ClientHello, to check a server refuses TLS versions below 1.2 (rustls
//! cannot even offer them).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long [`probe_tls11`] waits for the server's first bytes.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// TLS record content types.
const ALERT: u8 = 0x15;
const HANDSHAKE: u8 = 0x16;

/// How a server answered a TLS 1.1 ClientHello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls11Outcome {
    /// An alert record; `description` is the alert code (70 is `protocol_version`).
    Alert {
        /// The alert description code.
        description: u8,
    },
    /// A handshake record: the server went on to negotiate TLS 1.1.
    ServerHello,
    /// The connection closed (or was reset) with nothing sent.
    Closed,
    /// Nothing came back within 5 s.
    Silent,
    /// A record of another content type.
    Unexpected {
        /// The record's content type.
        content_type: u8,
    },
}

/// Sends a TLS 1.1 ClientHello to `addr` (record version 1.0, client version 1.1, no
/// `supported_versions` extension, TLS 1.0/1.1 cipher suites only, SNI `localhost`) and reports
/// how the server answered. A connect failure counts as [`Tls11Outcome::Closed`]. A rustls
/// server answers `Alert { description: 70 }` (protocol_version).
pub async fn probe_tls11(addr: SocketAddr) -> Tls11Outcome {
    match tokio::time::timeout(PROBE_TIMEOUT, exchange(addr)).await {
        Ok(outcome) => outcome,
        Err(_) => Tls11Outcome::Silent,
    }
}

async fn exchange(addr: SocketAddr) -> Tls11Outcome {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Tls11Outcome::Closed;
    };
    if stream.write_all(&client_hello("localhost")).await.is_err() {
        return Tls11Outcome::Closed;
    }
    // Record header (type, version, length), then for an alert: level and description.
    let mut header = [0u8; 7];
    let mut read = 0;
    while read < header.len() {
        match stream.read(&mut header[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    match (read, header[0]) {
        (0, _) => Tls11Outcome::Closed,
        (7, ALERT) => Tls11Outcome::Alert {
            description: header[6],
        },
        (_, ALERT) => Tls11Outcome::Closed,
        (_, HANDSHAKE) => Tls11Outcome::ServerHello,
        (_, content_type) => Tls11Outcome::Unexpected { content_type },
    }
}

/// A TLS record carrying a ClientHello that offers TLS 1.1 at most.
fn client_hello(server_name: &str) -> Vec<u8> {
    let mut hello = vec![0x03, 0x02]; // client_version: TLS 1.1
    hello.extend(std::iter::repeat_n(0x5a, 32)); // random
    hello.push(0); // empty session id
    // ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES256-SHA, AES128-SHA, AES256-SHA, ECDHE-ECDSA-AES128-SHA.
    let suites: [u16; 5] = [0xc013, 0xc014, 0x002f, 0x0035, 0xc009];
    put_u16(&mut hello, (suites.len() * 2) as u16);
    for suite in suites {
        put_u16(&mut hello, suite);
    }
    hello.extend([1, 0]); // compression methods: null

    let mut extensions = Vec::new();
    // server_name: a list holding one host_name entry.
    let name = server_name.as_bytes();
    let mut sni = Vec::new();
    put_u16(&mut sni, (name.len() + 3) as u16);
    sni.push(0);
    put_u16(&mut sni, name.len() as u16);
    sni.extend(name);
    put_extension(&mut extensions, 0x0000, &sni);
    // supported_groups: secp256r1, secp384r1; ec_point_formats: uncompressed.
    put_extension(
        &mut extensions,
        0x000a,
        &[0x00, 0x04, 0x00, 0x17, 0x00, 0x18],
    );
    put_extension(&mut extensions, 0x000b, &[0x01, 0x00]);
    // signature_algorithms (TLS 1.2's, harmless to a 1.1 server): without it rustls refuses
    // with handshake_failure before it looks at the version; with it the refusal says
    // protocol_version, which is what the probe is about. ecdsa_secp256r1_sha256, rsa_pkcs1_sha256.
    put_extension(
        &mut extensions,
        0x000d,
        &[0x00, 0x04, 0x04, 0x03, 0x04, 0x01],
    );
    put_u16(&mut hello, extensions.len() as u16);
    hello.extend(extensions);

    let mut handshake = vec![0x01]; // ClientHello
    handshake.extend(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend(hello);

    let mut record = vec![HANDSHAKE, 0x03, 0x01]; // record version: TLS 1.0
    put_u16(&mut record, handshake.len() as u16);
    record.extend(handshake);
    record
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend(value.to_be_bytes());
}

fn put_extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(out, kind);
    put_u16(out, body.len() as u16);
    out.extend(body);
}
