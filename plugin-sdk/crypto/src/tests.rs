//! Round trips against the JWT plugin's key fixtures: each key signs with ring (from its
//! PKCS#8 private key) and verifies through every import format.

use ring::rand::SystemRandom;
use ring::signature::{self as ring_sig, KeyPair};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/jwt-authorizer/tests/fixtures/keys")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn pkcs8(name: &str) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(&fixture(name)).expect("PEM");
    pem.contents
}

fn import(format: KeyFormat, material: &[u8]) -> VerifyingKey {
    VerifyingKey::import(format, material).expect("imports")
}

/// The key of fixture `name` imported as PEM, DER (from the PEM) and JWK.
fn every_format(name: &str) -> Vec<VerifyingKey> {
    let pem = fixture(&format!("{name}.pub.pem"));
    let (_, der) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    vec![
        import(KeyFormat::Pem, &pem),
        import(KeyFormat::Der, &der.contents),
        import(KeyFormat::Jwk, &fixture(&format!("{name}.jwk.json"))),
    ]
}

const MESSAGE: &[u8] = b"header.payload";

#[test]
fn rsa_signatures_verify_under_every_format_and_only_their_algorithm() {
    let pair = ring_sig::RsaKeyPair::from_pkcs8(&pkcs8("rsa-1.key.pem")).expect("RSA key");
    let rng = SystemRandom::new();
    for (algorithm, encoding) in [
        (
            SignatureAlgorithm::Rs256,
            &ring_sig::RSA_PKCS1_SHA256 as &dyn ring_sig::RsaEncoding,
        ),
        (SignatureAlgorithm::Ps512, &ring_sig::RSA_PSS_SHA512),
    ] {
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(encoding, &rng, MESSAGE, &mut signature)
            .expect("signs");
        for key in every_format("rsa-1") {
            assert!(key.verify(algorithm, MESSAGE, &signature), "{algorithm}");
            assert!(!key.verify(algorithm, b"another message", &signature));
            assert!(!key.verify(SignatureAlgorithm::Hs256, MESSAGE, &signature));
        }
        let other = import(KeyFormat::Pem, &fixture("rsa-2.pub.pem"));
        assert!(!other.verify(algorithm, MESSAGE, &signature));
    }
}

#[test]
fn ec_and_ed25519_signatures_verify_under_every_format() {
    let rng = SystemRandom::new();
    for (name, algorithm, signing) in [
        (
            "ec-p256",
            SignatureAlgorithm::Es256,
            &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
        ),
        (
            "ec-p384",
            SignatureAlgorithm::Es384,
            &ring_sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        ),
    ] {
        let pair =
            ring_sig::EcdsaKeyPair::from_pkcs8(signing, &pkcs8(&format!("{name}.key.pem")), &rng)
                .expect("EC key");
        let signature = pair.sign(&rng, MESSAGE).expect("signs");
        for key in every_format(name) {
            assert_eq!(key.algorithms(), &[algorithm]);
            assert!(key.verify(algorithm, MESSAGE, signature.as_ref()), "{name}");
            assert!(!key.verify(algorithm, b"tampered", signature.as_ref()));
        }
    }
    let pair = ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8("ed25519.key.pem"))
        .expect("Ed25519 key");
    let signature = pair.sign(MESSAGE);
    for key in every_format("ed25519") {
        assert!(key.verify(SignatureAlgorithm::EdDsa, MESSAGE, signature.as_ref()));
        assert!(!key.verify(SignatureAlgorithm::Es256, MESSAGE, signature.as_ref()));
    }
    assert_eq!(pair.public_key().as_ref().len(), 32);
}

#[test]
fn hmac_tags_verify_with_each_hash() {
    let secret = b"0123456789abcdef0123456789abcdef";
    let key = import(KeyFormat::HmacSecret, secret);
    for (algorithm, hash) in [
        (SignatureAlgorithm::Hs256, ring::hmac::HMAC_SHA256),
        (SignatureAlgorithm::Hs512, ring::hmac::HMAC_SHA512),
    ] {
        let tag = ring::hmac::sign(&ring::hmac::Key::new(hash, secret), MESSAGE);
        assert!(key.verify(algorithm, MESSAGE, tag.as_ref()));
        assert!(!key.verify(SignatureAlgorithm::Hs384, MESSAGE, tag.as_ref()));
        assert!(!key.verify(algorithm, MESSAGE, &tag.as_ref()[1..]));
    }
    let jwk = br#"{"kty":"oct","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}"#;
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
        MESSAGE,
    );
    assert!(import(KeyFormat::Jwk, jwk).verify(SignatureAlgorithm::Hs256, MESSAGE, tag.as_ref()));
}

#[test]
fn weak_foreign_and_malformed_keys_are_refused_with_the_reason() {
    let refused = |format, material: &[u8]| VerifyingKey::import(format, material).unwrap_err();
    assert_eq!(
        refused(KeyFormat::HmacSecret, b"short"),
        KeyError::SecretTooShort(5)
    );
    assert_eq!(
        refused(KeyFormat::Pem, &fixture("rsa-1024.pub.pem")),
        KeyError::RsaSize(1024)
    );
    assert_eq!(
        refused(KeyFormat::Pem, &fixture("rsa-1.key.pem")),
        KeyError::NotAPublicKey("PRIVATE KEY".into())
    );
    assert!(matches!(
        refused(KeyFormat::Pem, b"hello"),
        KeyError::Malformed(_)
    ));
    assert!(matches!(
        refused(KeyFormat::Der, b"\x30\x03\x02\x01\x01"),
        KeyError::Malformed(_)
    ));
    // A P-256 point moved off the curve.
    let mut jwk: serde_json::Value =
        serde_json::from_slice(&fixture("ec-p256.jwk.json")).expect("JWK");
    jwk["y"] = "HpLLMTejDyPkDRIIvmnXn6J6B8X0Pu1-NuChLoKib8U".into();
    let off_curve = serde_json::to_vec(&jwk).expect("JSON");
    assert_eq!(
        refused(KeyFormat::Jwk, &off_curve),
        KeyError::Invalid("EC".into())
    );
    let secp256k1 = br#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#;
    assert!(matches!(
        refused(KeyFormat::Jwk, secp256k1),
        KeyError::UnsupportedCurve(_)
    ));
    assert!(matches!(
        refused(KeyFormat::Jwk, b"{\"kty\":\"RSA\"}"),
        KeyError::Malformed(_)
    ));
    let huge = vec![b'a'; MAX_KEY_BYTES + 1];
    assert!(matches!(
        refused(KeyFormat::HmacSecret, &huge),
        KeyError::Malformed(_)
    ));
}

#[test]
fn digests_and_constant_time_comparison() {
    let sha256 = digest(DigestAlgorithm::Sha256, b"abc");
    assert_eq!(
        sha256[..4],
        [0xba, 0x78, 0x16, 0xbf],
        "the FIPS 180-2 test vector"
    );
    assert_eq!(digest(DigestAlgorithm::Sha384, b"abc").len(), 48);
    assert_eq!(digest(DigestAlgorithm::Sha512, b"abc").len(), 64);
    assert!(constant_time_eq(b"same", b"same"));
    assert!(!constant_time_eq(b"same", b"sane"));
    assert!(!constant_time_eq(b"same", b"same!"));
}

#[test]
fn algorithms_parse_and_print_as_jws_names() {
    for algorithm in SignatureAlgorithm::ALL {
        assert_eq!(algorithm.jws_name().parse(), Ok(algorithm));
    }
    assert!("hs256".parse::<SignatureAlgorithm>().is_err());
    assert!("none".parse::<SignatureAlgorithm>().is_err());
}
