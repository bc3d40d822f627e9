//! The JWT authorizer through a real gateway, with its JWK set served over HTTP and attached as a
//! document: a token signed by a published key passes and its principal reaches the backend; a
//! token naming a key the set does not have yet is refused, makes the gateway fetch the set
//! again, and passes once the identity provider publishes the key.

use std::time::Duration;

use http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wasmgate_tests::{DocumentServer, EchoUpstream, TestGateway, http1, plugin_path};

fn key_fixture(name: &str) -> String {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugins/jwt-authorizer/tests/fixtures/keys"
    );
    std::fs::read_to_string(format!("{dir}/{name}")).expect("key fixture")
}

fn jwks(kids: &[&str]) -> String {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| serde_json::from_str(&key_fixture(&format!("{kid}.jwk.json"))).unwrap())
        .collect();
    json!({ "keys": keys }).to_string()
}

fn token(kid: &str, sub: &str, scope: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(key_fixture(&format!("{kid}.key.pem")).as_bytes()).unwrap();
    let claims = json!({
        "sub": sub, "iss": "https://idp.test", "aud": "orders",
        "scope": scope, "exp": 4_102_444_800u64, "iat": 1_763_683_200u64,
    });
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn call(gateway: &TestGateway, token: Option<&str>) -> wasmgate_tests::TestResponse {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    http1()
        .send(Method::GET, &gateway.url("/orders"), &headers, "")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_against_a_refreshed_jwks_document() {
    let idp = DocumentServer::start(jwks(&["rsa-1"])).await;
    let upstream = EchoUpstream::start().await;
    let gateway = TestGateway::start(&format!(
        r#"
[upstreams.orders]
url = "{upstream}"

[plugins.jwt]
path = "{jwt}"
grants = ["crypto", "kv"]
[plugins.jwt.documents]
jwks = {{ url = "{jwks_url}", refresh_ms = 3600000 }}
[plugins.jwt.config]
jwks_document = "jwks"
issuer = "https://idp.test"
audience = "orders"
scopes = ["orders:read"]
forward_headers = {{ "x-user" = "sub" }}
cache_ttl = "1m"

[[routes]]
id = "authorizers-orders"
path = "/orders"
plugins = ["jwt"]
integration = {{ type = "http", upstream = "orders" }}
"#,
        upstream = upstream.url(),
        jwt = plugin_path("jwt_authorizer_cached"),
        jwks_url = idp.url("/.well-known/jwks.json"),
    ))
    .await;

    let missing = call(&gateway, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["type"], "UNAUTHORIZED");

    let ok = call(&gateway, Some(&token("rsa-1", "alice", "orders:read"))).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let seen_by_backend = ok.json();
    assert_eq!(
        seen_by_backend["headers"]["x-user"][0], "alice",
        "{seen_by_backend}"
    );

    let no_scope = call(&gateway, Some(&token("rsa-1", "alice", "profile"))).await;
    assert_eq!(no_scope.status, 403);
    assert_eq!(no_scope.json()["type"], "ACCESS_DENIED");

    // Key rotation: rsa-2 is not published yet.
    let rotated = token("rsa-2", "bob", "orders:read");
    let fetches = idp.fetches();
    assert_eq!(call(&gateway, Some(&rotated)).await.status, 401);
    idp.set(jwks(&["rsa-1", "rsa-2"]));
    // The unknown `kid` asked for a refresh; once fetched, the new key verifies.
    idp.wait_for_fetch_after(fetches, Duration::from_secs(10))
        .await;
    let accepted = async {
        loop {
            let response = call(&gateway, Some(&rotated)).await;
            if response.status == 200 {
                return response;
            }
            assert_eq!(response.status, 401);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let response = tokio::time::timeout(Duration::from_secs(10), accepted)
        .await
        .expect("the rotated key is picked up");
    assert_eq!(response.json()["headers"]["x-user"][0], "bob");
}
