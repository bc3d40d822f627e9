//! The gateway's edge: TLS listeners (versions, ALPN, SNI, certificate rotation, HSTS, the
//! HTTPS redirect), mutual TLS and the client identity it yields, TLS to upstreams, and the
//! limits that protect a listener (header and body size, slow headers, connection count, idle
//! keep-alive). Certificates are made up per test by [`TestPki`]; nothing is committed.

mod client_auth;
mod limits;
mod listener_tls;
mod upstream_tls;

use std::net::SocketAddr;
use std::path::PathBuf;

use wasmgate_tests::gateway::engine_section;
use wasmgate_tests::tls::{TestPki, TlsClientOptions, tls_connect};
use wasmgate_tests::{TestGateway, http1, plugin_path, write_atomically};

/// The context keys the gateway sets from TLS; [`probe_route`] echoes each as `x-context-<key>`.
const TLS_CONTEXT_KEYS: [&str; 6] = [
    "gateway.tls.protocol",
    "gateway.tls.sni",
    "gateway.tls.client.subject",
    "gateway.tls.client.sans",
    "gateway.tls.client.fingerprint_sha256",
    "gateway.tls.client.serial",
];

/// Writes `dir/gateway.toml` (the shared test engine settings, an admin listener on a free port,
/// then `config`, which brings its own `[[listeners]]`) and starts a gateway on it. Relative
/// certificate paths in `config` resolve against `dir`.
async fn start_gateway(dir: PathBuf, config: &str) -> TestGateway {
    write_atomically(
        &dir.join("gateway.toml"),
        format!(
            "{}\n[admin]\naddress = \"127.0.0.1:0\"\n\n{config}",
            engine_section()
        ),
    );
    TestGateway::start_in(dir, "gateway.toml", "").await
}

/// The address the listener named `name` is bound to.
fn listener(gateway: &TestGateway, name: &str) -> SocketAddr {
    let addresses = gateway.inner().addresses();
    addresses
        .iter()
        .find(|(listener, _)| listener == name)
        .map(|(_, address)| *address)
        .unwrap_or_else(|| panic!("no listener named {name} in {addresses:?}"))
}

/// A `[[listeners]]` entry named `name` on 127.0.0.1:0 serving over TLS the certificates whose
/// files are `<stem>.pem` / `<stem>-key.pem` (in that order), with `tls_extra` appended to its
/// `[listeners.tls]` table (more keys, or a `[listeners.tls.client_auth]` table).
fn tls_listener(name: &str, stems: &[&str], tls_extra: &str) -> String {
    let certificates: Vec<String> = stems
        .iter()
        .map(|stem| format!(r#"{{ cert = "{stem}.pem", key = "{stem}-key.pem" }}"#))
        .collect();
    format!(
        "[[listeners]]\nname = \"{name}\"\naddress = \"127.0.0.1:0\"\n[listeners.tls]\ncertificates = [{}]\n{tls_extra}\n",
        certificates.join(", ")
    )
}

/// A route `GET /hello` answering 200 "hi" through the stage-probe plugin, which echoes every
/// [`TLS_CONTEXT_KEYS`] entry that is set as a response header `x-context-<key>`.
fn probe_route() -> String {
    let keys: Vec<String> = TLS_CONTEXT_KEYS
        .iter()
        .map(|key| format!("\"{key}\""))
        .collect();
    format!(
        r#"
[plugins.tls-probe]
path = "{probe}"
config = {{ stages = ["method-response"], echo_context = [{keys}] }}

[[routes]]
path = "/hello"
methods = ["GET"]
plugins = ["tls-probe"]
integration = {{ type = "mock", status = 200, body = "hi" }}
"#,
        probe = plugin_path("stage_probe"),
        keys = keys.join(", "),
    )
}

/// A fresh directory holding a server certificate for `localhost` and `127.0.0.1`
/// (`server.pem`, `server-key.pem`) and `pki`'s CA as `clients-ca.pem`, all from `pki`.
fn tls_dir(pki: &TestPki) -> PathBuf {
    let dir = wasmgate_tests::scratch_dir();
    pki.server_cert(&["localhost", "127.0.0.1"])
        .write(&dir, "server");
    write_atomically(&dir.join("clients-ca.pem"), pki.ca_pem());
    dir
}

/// A gateway on a [`tls_dir`] with one TLS listener named `public` serving `server.pem`,
/// `tls_extra` in its `[listeners.tls]` table, and [`probe_route`].
async fn tls_gateway(pki: &TestPki, tls_extra: &str) -> TestGateway {
    let config = tls_listener("public", &["server"], tls_extra) + &probe_route();
    start_gateway(tls_dir(pki), &config).await
}

/// The config generation the admin API reports.
async fn generation(gateway: &TestGateway) -> u64 {
    let config = http1().get(&gateway.admin_url("/config")).await;
    config.json()["generation"].as_u64().unwrap()
}

/// The DER certificate `address` serves to a client sending SNI `server_name` (and verifying
/// it against `pki`'s CA).
async fn served_certificate(pki: &TestPki, address: SocketAddr, server_name: &str) -> Vec<u8> {
    let options = TlsClientOptions::trusting(pki).with_server_name(server_name);
    let session = tls_connect(address, &options)
        .await
        .unwrap_or_else(|e| panic!("TLS handshake with SNI {server_name} failed: {e}"));
    session
        .peer_certificate_der()
        .expect("a server certificate")
}
