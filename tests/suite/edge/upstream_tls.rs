//! `https` upstreams: verified against a configured CA (or the system roots, which do not know
//! a test CA), the verified name overridable with `server_name`, and the gateway's own client
//! certificate presented to an upstream that requires one.

use wasmgate_tests::tls::{TestPki, TlsEchoUpstream};
use wasmgate_tests::{TestGateway, http1, scratch_dir, write_atomically};

/// A gateway on a plain listener whose routes `/<name>/{*rest}` proxy to the upstream `<name>`
/// of `upstreams` (`(name, url, tls table body)`; an empty body means no `tls` table). The
/// directory holds `pki`'s CA as `upstream-ca.pem` and a client certificate for
/// `wasmgate-gateway` as `gw.pem` / `gw-key.pem`.
async fn gateway_to(pki: &TestPki, upstreams: &[(&str, String, &str)]) -> TestGateway {
    let dir = scratch_dir();
    write_atomically(&dir.join("upstream-ca.pem"), pki.ca_pem());
    pki.client_cert("wasmgate-gateway", None).write(&dir, "gw");
    let mut config = String::new();
    for (name, url, tls) in upstreams {
        config.push_str(&format!(
            "[upstreams.{name}]\nurl = \"{url}\"\nconnect_timeout_ms = 1000\ntimeout_ms = 5000\n"
        ));
        if !tls.is_empty() {
            config.push_str(&format!("[upstreams.{name}.tls]\n{tls}\n"));
        }
        config.push_str(&format!(
            "\n[[routes]]\npath = \"/{name}/{{*rest}}\"\nintegration = {{ type = \"http\", upstream = \"{name}\" }}\n\n"
        ));
    }
    TestGateway::start_in(dir, "gateway.toml", &config).await
}

#[tokio::test]
async fn an_https_upstream_verified_against_the_configured_ca_is_proxied() {
    let pki = TestPki::new();
    let upstream = TlsEchoUpstream::start(&pki, false).await;
    let gateway = gateway_to(
        &pki,
        &[("secure", upstream.url(""), "ca = \"upstream-ca.pem\"")],
    )
    .await;
    let response = http1().get(&gateway.url("/secure/items")).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let seen = response.json();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/secure/items");
    assert_eq!(seen["client_cert_cn"], serde_json::Value::Null);
    assert_eq!(response.header("x-upstream"), Some("tls-echo"));
}

#[tokio::test]
async fn upstream_mutual_tls_presents_the_configured_client_certificate() {
    let pki = TestPki::new();
    let upstream = TlsEchoUpstream::start(&pki, true).await;
    let with_cert =
        "ca = \"upstream-ca.pem\"\nclient_cert = \"gw.pem\"\nclient_key = \"gw-key.pem\"";
    let gateway = gateway_to(
        &pki,
        &[
            ("mtls", upstream.url(""), with_cert),
            ("nocert", upstream.url(""), "ca = \"upstream-ca.pem\""),
        ],
    )
    .await;
    let response = http1().get(&gateway.url("/mtls/items")).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.json()["client_cert_cn"], "wasmgate-gateway");

    // The same upstream without the gateway's certificate refuses the handshake.
    let refused = http1().get(&gateway.url("/nocert/items")).await;
    assert_eq!(refused.status, 502);
    assert_eq!(refused.json()["type"], "INTEGRATION_FAILURE");
}

#[tokio::test]
async fn an_https_upstream_unknown_to_the_system_roots_is_a_502() {
    let pki = TestPki::new();
    let upstream = TlsEchoUpstream::start(&pki, false).await;
    let gateway = gateway_to(&pki, &[("secure", upstream.url(""), "")]).await;
    let response = http1().get(&gateway.url("/secure/items")).await;
    assert_eq!(response.status, 502);
    assert_eq!(response.json()["type"], "INTEGRATION_FAILURE");
}

#[tokio::test]
async fn server_name_sets_the_name_the_upstream_certificate_is_verified_for() {
    let pki = TestPki::new();
    let upstream = TlsEchoUpstream::start(&pki, false).await;
    // The certificate is for `localhost` and 127.0.0.1: an address URL verified as
    // `localhost` passes, verified as another name fails.
    let by_address = format!("https://127.0.0.1:{}", upstream.address.port());
    let gateway = gateway_to(
        &pki,
        &[
            (
                "right",
                by_address.clone(),
                "ca = \"upstream-ca.pem\"\nserver_name = \"localhost\"",
            ),
            (
                "wrong",
                by_address,
                "ca = \"upstream-ca.pem\"\nserver_name = \"other.test\"",
            ),
        ],
    )
    .await;
    let right = http1().get(&gateway.url("/right/items")).await;
    assert_eq!(
        right.status,
        200,
        "{}",
        String::from_utf8_lossy(&right.body)
    );
    let wrong = http1().get(&gateway.url("/wrong/items")).await;
    assert_eq!(wrong.status, 502);
    assert_eq!(wrong.json()["type"], "INTEGRATION_FAILURE");
}

#[tokio::test]
async fn an_https_upstream_speaks_http2_when_alpn_or_the_config_says_so() {
    let pki = TestPki::new();
    let upstream = TlsEchoUpstream::start(&pki, false).await;
    let dir = scratch_dir();
    write_atomically(&dir.join("upstream-ca.pem"), pki.ca_pem());
    let mut config = String::new();
    for protocol in ["http1", "h2", "auto"] {
        config.push_str(&format!(
            "[upstreams.{protocol}]\nurl = \"{}\"\nprotocol = \"{protocol}\"\n\
             tls = {{ ca = \"upstream-ca.pem\" }}\n\
             [[routes]]\npath = \"/{protocol}/{{*rest}}\"\n\
             integration = {{ type = \"http\", upstream = \"{protocol}\" }}\n",
            upstream.url("")
        ));
    }
    let gateway = TestGateway::start_in(dir, "gateway.toml", &config).await;
    for (protocol, version) in [
        ("http1", "HTTP/1.1"),
        ("h2", "HTTP/2.0"),
        ("auto", "HTTP/2.0"),
    ] {
        for _ in 0..2 {
            let response = http1().get(&gateway.url(&format!("/{protocol}/x"))).await;
            assert_eq!(response.status, 200, "{protocol}");
            let seen = response.json();
            assert_eq!(seen["version"], version, "{protocol}");
            assert_eq!(seen["path"], format!("/{protocol}/x"));
            assert!(seen["headers"].get("host").is_none() || version == "HTTP/1.1");
        }
    }
}
