//! Mutual TLS on a listener: `required` refuses clients without a certificate the client CA
//! signed (missing, expired, foreign), `optional` serves them anonymously, a verified identity
//! reaches plugins through the context, and with `forward_headers` it reaches the upstream
//! while copies a client forged do not.

use wasmgate_tests::tls::{IssuedCert, TestPki, TlsClientOptions, TlsVersions, tls_get};
use wasmgate_tests::{EchoUpstream, TestGateway, TestResponse};

use super::{listener, start_gateway, tls_dir, tls_gateway, tls_listener};

/// The URI SAN on alice's certificate.
const ALICE_URI: &str = "spiffe://example.test/alice";

/// A gateway whose `public` listener asks for client certificates signed by `pki`'s CA in
/// `mode` (`required` or `optional`).
async fn mutual_tls_gateway(pki: &TestPki, mode: &str) -> TestGateway {
    tls_gateway(pki, &client_auth(mode, false)).await
}

/// A `[listeners.tls.client_auth]` table trusting `clients-ca.pem`.
fn client_auth(mode: &str, forward_headers: bool) -> String {
    format!(
        "[listeners.tls.client_auth]\nmode = \"{mode}\"\nca = \"clients-ca.pem\"\nforward_headers = {forward_headers}\n"
    )
}

/// Asserts `response` carries alice's identity, as the probe echoed it from the context.
fn assert_identity_of(alice: &IssuedCert, response: &TestResponse) {
    assert_eq!(response.status, 200);
    let subject = response.header("x-context-gateway.tls.client.subject");
    assert!(
        subject.is_some_and(|s| s.contains("CN=alice")),
        "subject: {subject:?}"
    );
    assert_eq!(
        response.header("x-context-gateway.tls.client.fingerprint_sha256"),
        Some(alice.fingerprint_sha256().as_str())
    );
    let sans = response.header("x-context-gateway.tls.client.sans");
    assert!(
        sans.is_some_and(|s| s.contains(&format!("URI:{ALICE_URI}"))),
        "sans: {sans:?}"
    );
    let serial = response
        .header("x-context-gateway.tls.client.serial")
        .expect("a serial");
    assert!(
        !serial.is_empty()
            && serial
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "serial: {serial}"
    );
}

#[tokio::test]
async fn required_mutual_tls_refuses_missing_expired_and_foreign_certificates() {
    let pki = TestPki::new();
    let gateway = mutual_tls_gateway(&pki, "required").await;
    let address = listener(&gateway, "public");
    let refused = [
        ("no certificate", None),
        (
            "an expired certificate",
            Some(pki.expired_client_cert("alice")),
        ),
        (
            "a foreign CA's certificate",
            Some(pki.foreign_client_cert("alice")),
        ),
    ];
    // With TLS 1.3 the refusal comes after the client's side of the handshake is done.
    for versions in [TlsVersions::Only12, TlsVersions::Only13] {
        for (what, certificate) in &refused {
            let mut options = TlsClientOptions::trusting(&pki).with_versions(versions);
            options.client_cert = certificate.clone();
            let result = tls_get(address, &options, "/hello", &[]).await;
            assert!(
                result.is_err(),
                "{versions:?} with {what} was served: {:?}",
                result.map(|r| r.status)
            );
        }
    }
}

#[tokio::test]
async fn required_mutual_tls_puts_the_verified_identity_in_the_context() {
    let pki = TestPki::new();
    let gateway = mutual_tls_gateway(&pki, "required").await;
    let address = listener(&gateway, "public");
    let alice = pki.client_cert("alice", Some(ALICE_URI));
    for versions in [TlsVersions::Only12, TlsVersions::Only13] {
        let options = TlsClientOptions::trusting(&pki)
            .with_versions(versions)
            .with_client_cert(&alice);
        let response = tls_get(address, &options, "/hello", &[])
            .await
            .unwrap_or_else(|e| panic!("{versions:?} with alice's certificate failed: {e}"));
        assert_identity_of(&alice, &response);
    }
}

#[tokio::test]
async fn optional_mutual_tls_serves_anonymous_clients_without_an_identity() {
    let pki = TestPki::new();
    let gateway = mutual_tls_gateway(&pki, "optional").await;
    let address = listener(&gateway, "public");

    let anonymous = tls_get(address, &TlsClientOptions::trusting(&pki), "/hello", &[])
        .await
        .unwrap();
    assert_eq!(anonymous.status, 200);
    assert_eq!(
        anonymous.header("x-context-gateway.tls.client.subject"),
        None
    );
    assert_eq!(
        anonymous.header("x-context-gateway.tls.client.fingerprint_sha256"),
        None
    );

    let alice = pki.client_cert("alice", Some(ALICE_URI));
    let options = TlsClientOptions::trusting(&pki).with_client_cert(&alice);
    let identified = tls_get(address, &options, "/hello", &[]).await.unwrap();
    assert_identity_of(&alice, &identified);
}

#[tokio::test]
async fn a_forwarded_identity_reaches_the_upstream_and_forged_copies_do_not() {
    let pki = TestPki::new();
    let upstream = EchoUpstream::start().await;
    let config = format!(
        r#"{listener}
[upstreams.echo]
url = "{url}"

[[routes]]
path = "/{{*rest}}"
integration = {{ type = "http", upstream = "echo" }}
"#,
        listener = tls_listener("public", &["server"], &client_auth("optional", true)),
        url = upstream.url(),
    );
    let gateway = start_gateway(tls_dir(&pki), &config).await;
    let address = listener(&gateway, "public");
    let forged = [
        ("x-client-cert-subject", "forged"),
        ("x-client-cert-sans", "forged"),
        ("x-client-cert-fingerprint", "forged"),
        ("x-client-cert-serial", "forged"),
    ];

    let alice = pki.client_cert("alice", Some(ALICE_URI));
    let options = TlsClientOptions::trusting(&pki).with_client_cert(&alice);
    let response = tls_get(address, &options, "/orders", &forged)
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let seen = response.json();
    let headers = &seen["headers"];
    for (name, _) in forged {
        let values = headers[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} not forwarded"));
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        assert_ne!(values[0], "forged", "{name}");
    }
    let subject = headers["x-client-cert-subject"][0].as_str().unwrap();
    assert!(subject.contains("CN=alice"), "{subject}");
    assert_eq!(
        headers["x-client-cert-fingerprint"][0].as_str(),
        Some(alice.fingerprint_sha256().as_str())
    );
    let sans = headers["x-client-cert-sans"][0].as_str().unwrap();
    assert!(sans.contains(&format!("URI:{ALICE_URI}")), "{sans}");
    assert!(
        !headers["x-client-cert-serial"][0]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // Without a certificate there is no identity to forward, and nothing forged gets through.
    let anonymous = tls_get(
        address,
        &TlsClientOptions::trusting(&pki),
        "/orders",
        &forged,
    )
    .await
    .unwrap();
    let seen = anonymous.json();
    for (name, _) in forged {
        assert!(
            seen["headers"].get(name).is_none(),
            "{name} reached the upstream"
        );
    }
}
