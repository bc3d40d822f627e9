//! A TLS listener: TLS 1.2 and 1.3 but never 1.1, `min_version`, ALPN, certificate choice by
//! SNI, certificate rotation by reload, HSTS, and the plain listener that redirects to HTTPS.

use std::time::{Duration, Instant};

use http::{Method, Version};
use rustls::ProtocolVersion;
use wasmgate_tests::tls::{
    TestPki, Tls11Outcome, TlsClientOptions, TlsVersions, probe_tls11, tls_connect, tls_get,
};
use wasmgate_tests::{http1, scratch_dir, write_atomically};

use super::{
    generation, listener, probe_route, served_certificate, start_gateway, tls_gateway, tls_listener,
};

#[tokio::test]
async fn tls_1_2_and_1_3_handshakes_succeed_and_tls_1_1_is_refused() {
    let pki = TestPki::new();
    let gateway = tls_gateway(&pki, "").await;
    let address = listener(&gateway, "public");
    for (versions, negotiated, name) in [
        (TlsVersions::Only12, ProtocolVersion::TLSv1_2, "TLSv1.2"),
        (TlsVersions::Only13, ProtocolVersion::TLSv1_3, "TLSv1.3"),
    ] {
        let options = TlsClientOptions::trusting(&pki).with_versions(versions);
        let session = tls_connect(address, &options)
            .await
            .unwrap_or_else(|e| panic!("{name} handshake failed: {e}"));
        assert_eq!(session.protocol_version(), Some(negotiated));
        let response = tls_get(address, &options, "/hello", &[])
            .await
            .unwrap_or_else(|e| panic!("GET over {name} failed: {e}"));
        assert_eq!(
            (response.status.as_u16(), &response.body[..]),
            (200, &b"hi"[..])
        );
        assert_eq!(
            response.header("x-context-gateway.tls.protocol"),
            Some(name)
        );
        assert_eq!(
            response.header("x-context-gateway.tls.sni"),
            Some("localhost")
        );
    }
    let tls11 = probe_tls11(address).await;
    assert!(
        matches!(tls11, Tls11Outcome::Alert { .. } | Tls11Outcome::Closed),
        "a TLS 1.1 ClientHello was not refused: {tls11:?}"
    );
}

#[tokio::test]
async fn min_version_1_3_refuses_tls_1_2_clients() {
    let pki = TestPki::new();
    let gateway = tls_gateway(&pki, "min_version = \"1.3\"").await;
    let address = listener(&gateway, "public");
    let tls12 = TlsClientOptions::trusting(&pki).with_versions(TlsVersions::Only12);
    assert!(tls_get(address, &tls12, "/hello", &[]).await.is_err());
    let tls13 = TlsClientOptions::trusting(&pki).with_versions(TlsVersions::Only13);
    let response = tls_get(address, &tls13, "/hello", &[]).await.unwrap();
    assert_eq!(
        response.header("x-context-gateway.tls.protocol"),
        Some("TLSv1.3")
    );
}

#[tokio::test]
async fn alpn_h2_is_answered_over_http2_and_http1_only_clients_get_http1() {
    let pki = TestPki::new();
    let gateway = tls_gateway(&pki, "").await;
    let address = listener(&gateway, "public");

    let offers_h2 = TlsClientOptions::trusting(&pki);
    let session = tls_connect(address, &offers_h2).await.unwrap();
    assert_eq!(session.alpn().as_deref(), Some(&b"h2"[..]));
    let response = tls_get(address, &offers_h2, "/hello", &[]).await.unwrap();
    assert_eq!(
        (response.version, response.status.as_u16()),
        (Version::HTTP_2, 200)
    );

    let http1_only = TlsClientOptions::trusting(&pki).with_alpn(&["http/1.1"]);
    let session = tls_connect(address, &http1_only).await.unwrap();
    assert_eq!(session.alpn().as_deref(), Some(&b"http/1.1"[..]));
    let response = tls_get(address, &http1_only, "/hello", &[]).await.unwrap();
    assert_eq!(
        (response.version, response.status.as_u16()),
        (Version::HTTP_11, 200)
    );

    // A client offering no ALPN at all speaks HTTP/1.1.
    let no_alpn = TlsClientOptions::trusting(&pki).with_alpn(&[]);
    let response = tls_get(address, &no_alpn, "/hello", &[]).await.unwrap();
    assert_eq!(response.version, Version::HTTP_11);
}

#[tokio::test]
async fn sni_picks_the_matching_certificate_and_falls_back_to_the_first() {
    let pki = TestPki::new();
    let dir = scratch_dir();
    let a = pki.server_cert(&["a.test", "localhost", "127.0.0.1"]);
    let b = pki.server_cert(&["b.test"]);
    let wildcard = pki.server_cert(&["*.apps.test"]);
    a.write(&dir, "a");
    b.write(&dir, "b");
    wildcard.write(&dir, "wildcard");
    let config = tls_listener("public", &["a", "b", "wildcard"], "") + &probe_route();
    let gateway = start_gateway(dir, &config).await;
    let address = listener(&gateway, "public");

    assert_eq!(served_certificate(&pki, address, "b.test").await, b.der);
    assert_eq!(served_certificate(&pki, address, "a.test").await, a.der);
    assert_eq!(served_certificate(&pki, address, "localhost").await, a.der);
    assert_eq!(
        served_certificate(&pki, address, "orders.apps.test").await,
        wildcard.der
    );
    // No SNI (rustls sends none for an IP address): the first certificate.
    assert_eq!(served_certificate(&pki, address, "127.0.0.1").await, a.der);
    // An SNI no certificate matches: the first certificate, which is not valid for that name.
    let unknown = TlsClientOptions::trusting(&pki)
        .with_server_name("unknown.test")
        .skipping_name_check();
    let session = tls_connect(address, &unknown).await.unwrap();
    assert_eq!(session.peer_certificate_der(), Some(a.der.clone()));
    let response = tls_get(address, &unknown, "/hello", &[]).await.unwrap();
    assert_eq!(
        response.header("x-context-gateway.tls.sni"),
        Some("unknown.test")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_reaches_new_connections_and_a_broken_one_keeps_the_last_good() {
    let pki = TestPki::new();
    let dir = scratch_dir();
    let first = pki.server_cert(&["localhost"]);
    first.write(&dir, "a");
    let config = format!(
        "[reload]\nwatch = true\ndebounce_ms = 20\n\n{}{}",
        tls_listener("public", &["a"], ""),
        probe_route()
    );
    let gateway = start_gateway(dir.clone(), &config).await;
    let address = listener(&gateway, "public");
    assert_eq!(
        served_certificate(&pki, address, "localhost").await,
        first.der
    );

    // Rotate: the watcher reloads, and new connections get the new certificate.
    let before = generation(&gateway).await;
    let rotated = pki.server_cert(&["localhost"]);
    rotated.write(&dir, "a");
    let started = Instant::now();
    while generation(&gateway).await <= before {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no reload within 10 s of rotating the certificate"
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(
        served_certificate(&pki, address, "localhost").await,
        rotated.der
    );

    // A broken certificate fails the reload, names the file, and the last good one stays.
    write_atomically(&dir.join("a.pem"), "not a certificate\n");
    let reload = http1()
        .send(Method::POST, &gateway.admin_url("/reload"), &[], "")
        .await;
    let report = String::from_utf8_lossy(&reload.body).into_owned();
    assert_eq!(reload.status, 400, "{report}");
    assert!(report.contains("a.pem"), "{report}");
    assert_eq!(
        served_certificate(&pki, address, "localhost").await,
        rotated.der
    );
    let response = tls_get(address, &TlsClientOptions::trusting(&pki), "/hello", &[])
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn hsts_is_sent_on_every_response_of_the_tls_listener() {
    let pki = TestPki::new();
    let hsts = "max-age=31536000; includeSubDomains";
    let gateway = tls_gateway(&pki, &format!("hsts = \"{hsts}\"")).await;
    let address = listener(&gateway, "public");
    for options in [
        TlsClientOptions::trusting(&pki),
        TlsClientOptions::trusting(&pki).with_alpn(&["http/1.1"]),
    ] {
        let found = tls_get(address, &options, "/hello", &[]).await.unwrap();
        assert_eq!(found.status, 200);
        assert_eq!(found.header("strict-transport-security"), Some(hsts));
        let missing = tls_get(address, &options, "/nowhere", &[]).await.unwrap();
        assert_eq!(missing.status, 404);
        assert_eq!(missing.header("strict-transport-security"), Some(hsts));
    }
}

#[tokio::test]
async fn the_redirect_listener_sends_every_request_to_https_on_the_configured_port() {
    let dir = scratch_dir();
    let config = r#"
[[listeners]]
name = "redirect"
address = "127.0.0.1:0"
redirect_https_port = 8443

[[listeners]]
name = "redirect-default-port"
address = "127.0.0.1:0"
redirect_https_port = 443

[[routes]]
path = "/x"
integration = { type = "mock", status = 200, body = "not redirected" }
"#;
    let gateway = start_gateway(dir, config).await;
    let client = http1();
    let redirect = listener(&gateway, "redirect");
    for method in [Method::GET, Method::POST] {
        let response = client
            .send(
                method.clone(),
                &format!("http://{redirect}/x?y=1"),
                &[("host", "example.test:8080")],
                "",
            )
            .await;
        assert_eq!(response.status, 308, "{method}");
        assert_eq!(
            response.header("location"),
            Some("https://example.test:8443/x?y=1"),
            "{method}"
        );
    }
    // Any path, routed or not.
    let response = client
        .send(
            Method::GET,
            &format!("http://{redirect}/elsewhere"),
            &[("host", "example.test")],
            "",
        )
        .await;
    assert_eq!(
        (response.status.as_u16(), response.header("location")),
        (308, Some("https://example.test:8443/elsewhere"))
    );

    let default_port = listener(&gateway, "redirect-default-port");
    let response = client
        .send(
            Method::GET,
            &format!("http://{default_port}/x?y=1"),
            &[("host", "example.test:8080")],
            "",
        )
        .await;
    assert_eq!(
        (response.status.as_u16(), response.header("location")),
        (308, Some("https://example.test/x?y=1"))
    );
}
