//! The Redis store through real gateways: two gateways (two replicas) on one real Redis enforce
//! one combined rate limit and one combined quota; with Redis gone, each fails open or closed as
//! configured, promptly; when Redis returns, both recover without a reload.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;
use wasmgate_store::test_support::RedisServer;
use wasmgate_tests::{TestGateway, http1, plugin_path};

async fn replica(redis_url: &str, on_unavailable: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[store]
backend = "redis"
url = "{redis_url}"
timeout_ms = 100
connect_timeout_ms = 200
on_unavailable = "{on_unavailable}"

[plugins.shared-probe]
path = "{probe}"
grants = ["rate-limit", "kv", "metrics", "crypto"]

[[routes]]
id = "shared-store"
path = "/probe"
plugins = ["shared-probe"]
integration = {{ type = "mock", status = 204 }}
"#,
        probe = plugin_path("capability_probe"),
    ))
    .await
}

async fn probe(gateway: &TestGateway, probe: &str) -> (u16, Value) {
    let response = http1()
        .send(
            Method::GET,
            &gateway.url("/probe"),
            &[("x-probe", probe)],
            "",
        )
        .await;
    (response.status.as_u16(), response.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_limits_and_survive_redis_going_away() {
    let mut redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let open = replica(&redis.url(), "open").await;
    let closed = replica(&redis.url(), "closed").await;

    // One bucket of 5 (then 1 per minute) across both replicas, requests alternating.
    let mut allowed = 0;
    for i in 0..10 {
        let gateway = if i % 2 == 0 { &open } else { &closed };
        let (status, answer) = probe(gateway, "bucket client:7 1 60000 5").await;
        assert_eq!(status, 200, "{answer}");
        allowed += usize::from(answer["allowed"] == true);
    }
    assert_eq!(allowed, 5, "one combined bucket");

    // One quota of 3 per day across both.
    let mut used = Vec::new();
    for i in 0..6 {
        let gateway = if i % 2 == 0 { &closed } else { &open };
        let (_, answer) = probe(gateway, "quota key:k1 3 day").await;
        used.push(answer["allowed"] == true);
    }
    assert_eq!(used.iter().filter(|u| **u).count(), 3, "one combined quota");

    // Redis dies: the open replica lets requests through, the closed one answers 503, both
    // within the store timeout's reach (never hanging).
    let mut redis_stopped = tokio::task::spawn_blocking(move || {
        redis.stop();
        redis
    })
    .await
    .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let (status, answer) = probe(&open, "bucket client:8 1 60000 1").await;
        assert_eq!(
            (status, answer["allowed"].clone()),
            (200, true.into()),
            "{answer}"
        );
        let (status, answer) = probe(&closed, "bucket client:8 1 60000 1").await;
        assert_eq!(status, 503, "{answer}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
    // Key-value calls report the outage whatever the policy.
    assert_eq!(probe(&open, "kv-get anything").await.0, 503);

    // Redis returns (empty, on the same port): both recover on their own.
    redis_stopped = tokio::task::spawn_blocking(move || {
        redis_stopped.restart();
        redis_stopped
    })
    .await
    .unwrap();
    for gateway in [&open, &closed] {
        let recovered = async {
            loop {
                let (status, answer) = probe(gateway, "bucket client:9 1 60000 100").await;
                if status == 200 && answer["remaining"].as_u64().is_some_and(|r| r < 99) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), recovered)
            .await
            .expect("the replica recovers when Redis returns");
    }
    drop(redis_stopped);
}
