//! The cost of each built-in plugin on a typical request with a 1 KB JSON body, inside the Wasm
//! sandbox, through the same host calls the gateway makes (pooled instances, the memory store):
//! a line per built-in plugin. The JWT lines verify a fresh token each call (no cache) through
//! the host's `crypto` capability; the GET lines send a query and three headers.
//!
//! Run: `cargo bench -p wasmgate-bench --bench builtin_plugins`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderValue;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use wasmgate::config::InstanceMode;
use wasmgate::exchange::{Exchange, ResponseState, Stage};
use wasmgate::plugin::{ConfiguredPlugin, StageAction};
use wasmgate_bench::{configured, engine};

/// A book of about 1 KB, as a client would POST it.
fn book(bytes: usize) -> Vec<u8> {
    let description =
        "A stark desert world, a noble family, a spice that extends life. ".repeat(bytes / 66);
    serde_json::to_vec(&json!({
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "isbn": "978-0441013593",
        "tags": ["science fiction", "classic", "desert", "politics"],
        "description": description,
    }))
    .expect("json")
}

fn exchange(body_bytes: usize) -> Exchange {
    let mut exchange = Exchange::default();
    exchange.request.method = http::Method::POST;
    exchange.request.path = "/books".into();
    let headers = &mut exchange.request.headers;
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "origin",
        HeaderValue::from_static("https://app.example.com"),
    );
    headers.insert("user-agent", HeaderValue::from_static("bench/1.0"));
    exchange.request.body = Some(book(body_bytes).into());
    exchange
        .context
        .insert("gateway.client-ip", "127.0.0.1".to_owned());
    exchange.response = Some(ResponseState::default());
    exchange
}

/// The JWT plugin's test keys.
fn key_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/jwt-authorizer/tests/fixtures/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A JWT plugin verifying `algorithm` with `key` (its config entry), and a valid token for it.
fn jwt_case(
    algorithm: Algorithm,
    key: serde_json::Value,
    signing: &EncodingKey,
) -> (serde_json::Value, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = json!({ "sub": "alice", "iss": "bench", "exp": now + 3600, "scope": "read" });
    let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, signing).expect("token");
    (json!({ "issuer": "bench", "keys": [key] }), token)
}

/// A GET with a query and three headers, as the GET chain sends it.
fn get_exchange(headers: &[(&'static str, &str)]) -> Exchange {
    let mut exchange = Exchange::default();
    exchange.request.method = http::Method::GET;
    exchange.request.path = "/books".into();
    exchange.request.query = Some("q=dune+messiah&page=2".into());
    for (name, value) in headers {
        let value = HeaderValue::from_str(value).expect("header value");
        exchange.request.headers.insert(*name, value);
    }
    exchange
        .context
        .insert("gateway.client-ip", "127.0.0.1".to_owned());
    exchange.response = Some(ResponseState::default());
    exchange
}

/// One cost line: a configured plugin, the stage it is called at, and the request it sees.
struct Case {
    name: &'static str,
    plugin: ConfiguredPlugin,
    stage: Stage,
    exchange: Exchange,
    /// Whether the plugin must let the request through (a refused token would measure the
    /// refusal, not the verification).
    must_continue: bool,
}

fn builtin_plugins(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = engine();
    let setup = |name: &str, config: serde_json::Value| {
        runtime.block_on(configured(&engine, name, config, InstanceMode::Pooled))
    };
    let case = |name, plugin, stage, exchange| Case {
        name,
        plugin,
        stage,
        exchange,
        must_continue: false,
    };
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["title", "year"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "year": {"type": "integer"},
            "author": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}
        }
    });
    let browser_get = [
        ("user-agent", "bench/1.0"),
        ("accept", "application/json"),
        ("origin", "https://app.example.com"),
    ];
    let mut cases = vec![
        case(
            "validator_1kb",
            setup(
                "validator",
                json!({ "body": { "models": { "application/json": { "schema": schema } } } }),
            ),
            Stage::MethodRequest,
            exchange(1024),
        ),
        case(
            "mapper_request_1kb",
            setup(
                "mapper",
                json!({ "request": {
                "method": "PUT",
                "path": "/tables/books",
                "body": "{\"TableName\": \"books\", \"Item\": {\"title\": {{ body.title }}, \"year\": {{ body.year }}, \"author\": {{ body.author }}}}"
            } }),
            ),
            Stage::IntegrationRequest,
            exchange(1024),
        ),
        case(
            "cors_actual_response",
            setup(
                "cors",
                json!({ "allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST"] }),
            ),
            Stage::MethodResponse,
            exchange(1024),
        ),
        case(
            "headers_request",
            setup(
                "headers",
                json!({ "request": { "set": { "x-forwarded-by": "wasmgate" } } }),
            ),
            Stage::IntegrationRequest,
            get_exchange(&browser_get),
        ),
        case(
            "rate_limiter_client_ip",
            setup(
                "rate_limiter",
                json!({ "key": "client-ip", "default": { "rate": 1_000_000, "burst": 1_000_000, "period": "1s" } }),
            ),
            Stage::MethodRequest,
            get_exchange(&browser_get),
        ),
        case(
            "api_keys_gold_plan",
            setup(
                "api_keys",
                json!({
                    "plans": { "gold": { "throttle": { "rate": 1_000_000, "period": "1s" } } },
                    "keys": [{ "id": "k-1", "hash": wasmgate::api_key::hash_key("bench-key-0123456789"), "plan": "gold" }],
                }),
            ),
            Stage::MethodRequest,
            get_exchange(&[
                ("x-api-key", "bench-key-0123456789"),
                ("accept", "*/*"),
                ("user-agent", "bench/1.0"),
            ]),
        ),
        case(
            "waf_get_query_3_headers",
            setup("waf", json!({})),
            Stage::MethodRequest,
            get_exchange(&browser_get),
        ),
        case(
            "waf_1kb",
            setup("waf", json!({})),
            Stage::MethodRequest,
            exchange(1024),
        ),
        case(
            "waf_100kb",
            setup("waf", json!({})),
            Stage::MethodRequest,
            exchange(100 * 1024),
        ),
    ];

    let secret = "0123456789abcdef0123456789abcdef";
    let jwt_cases = [
        (
            "jwt_hs256",
            jwt_case(
                Algorithm::HS256,
                json!({ "secret": secret }),
                &EncodingKey::from_secret(secret.as_bytes()),
            ),
        ),
        (
            "jwt_rs256",
            jwt_case(
                Algorithm::RS256,
                json!({ "pem": key_fixture("rsa-1.pub.pem") }),
                &EncodingKey::from_rsa_pem(key_fixture("rsa-1.key.pem").as_bytes()).expect("key"),
            ),
        ),
        (
            "jwt_es256",
            jwt_case(
                Algorithm::ES256,
                json!({ "pem": key_fixture("ec-p256.pub.pem") }),
                &EncodingKey::from_ec_pem(key_fixture("ec-p256.key.pem").as_bytes()).expect("key"),
            ),
        ),
    ];
    for (name, (config, token)) in jwt_cases {
        let bearer = format!("Bearer {token}");
        let mut jwt = case(
            name,
            setup("jwt_authorizer", config),
            Stage::MethodRequest,
            get_exchange(&[
                ("authorization", &bearer),
                ("accept", "*/*"),
                ("user-agent", "bench/1.0"),
            ]),
        );
        jwt.must_continue = true;
        cases.push(jwt);
    }

    let mut group = c.benchmark_group("builtin_plugin_call");
    for case in &cases {
        group.bench_function(case.name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let mut exchange = Box::new(case.exchange.clone());
                        let action = case.plugin.call(case.stage, &mut exchange).await;
                        let action = action.result.expect("plugin call");
                        if case.must_continue {
                            assert!(
                                matches!(action, StageAction::Continue),
                                "{}: the request is refused: {action:?}",
                                case.name
                            );
                        }
                        black_box(action);
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, builtin_plugins);
criterion_main!(benches);
