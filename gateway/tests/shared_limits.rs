//! Two `wasmgate` processes on one real Redis enforce one combined rate limit (the
//! `rate_limiter` plugin) and one combined quota (the `api_keys` plugin); with Redis killed,
//! each fails open or closed as configured, at once; when Redis returns, both recover on their
//! own.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Spawned, send, spawn};
use wasmgate_store::test_support::RedisServer;

const KEY: &str = "wg_shared_limits_test_key";

fn plugin(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/plugins/{name}.wasm"))
        .display()
        .to_string()
}

fn config(dir: &Path, redis_url: &str, on_unavailable: &str) -> PathBuf {
    let text = format!(
        r#"
[[listeners]]
address = "127.0.0.1:0"

[admin]
address = "127.0.0.1:0"

[store]
backend = "redis"
url = "{redis_url}"
timeout_ms = 200
connect_timeout_ms = 200
on_unavailable = "{on_unavailable}"

[plugins.limits]
path = "{limiter}"
grants = ["rate-limit"]
[plugins.limits.config]
key = "client-ip"
default = {{ rate = 1, burst = 4, period = "1m" }}

[plugins.keys]
path = "{keys}"
grants = ["rate-limit", "crypto"]
[plugins.keys.config.plans.trial]
quota = {{ limit = 6, period = "day" }}
[[plugins.keys.config.keys]]
id = "k-shared"
hash = "{hash}"
plan = "trial"

[[routes]]
path = "/limited"
plugins = ["limits"]
integration = {{ type = "mock", status = 200, body = "ok" }}

[[routes]]
path = "/keyed"
plugins = ["keys"]
integration = {{ type = "mock", status = 200, body = "ok" }}
"#,
        limiter = plugin("rate_limiter"),
        keys = plugin("api_keys"),
        hash = wasmgate::api_key::hash_key(KEY),
    );
    let path = dir.join(format!("gateway-{on_unavailable}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

fn get(gateway: &Spawned, path: &str) -> String {
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: test\r\nx-api-key: {KEY}\r\nconnection: close\r\n\r\n"
    );
    send(&gateway.traffic, &request)
}

/// Sends `count` requests to `path`, alternating between the two gateways; the statuses.
fn alternate(gateways: [&Spawned; 2], path: &str, count: usize) -> Vec<u16> {
    (0..count)
        .map(|i| status(&get(gateways[i % 2], path)))
        .collect()
}

#[test]
fn two_processes_share_one_limit_and_one_quota_through_redis() {
    let mut redis = RedisServer::start();
    let dir = std::env::temp_dir().join(format!("wasmgate-shared-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut open = spawn(&config(&dir, &redis.url(), "open"));
    let mut closed = spawn(&config(&dir, &redis.url(), "closed"));

    // Both clients are 127.0.0.1: one bucket of 4 across the two processes.
    let limited = alternate([&open, &closed], "/limited", 10);
    assert_eq!(
        limited.iter().filter(|s| **s == 200).count(),
        4,
        "{limited:?}"
    );
    assert!(limited[4..].iter().all(|s| *s == 429), "{limited:?}");
    // The bucket refills one request a minute: the next is about a minute away.
    let refused = get(&open, "/limited").to_ascii_lowercase();
    let retry_after: u64 = refused
        .split("retry-after: ")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no retry-after in {refused}"));
    assert!(
        (55..=60).contains(&retry_after),
        "retry-after {retry_after}"
    );

    // One key, one daily quota of 6 across the two processes.
    let keyed = alternate([&closed, &open], "/keyed", 10);
    assert_eq!(&keyed[..6], &[200; 6], "{keyed:?}");
    assert!(keyed[6..].iter().all(|s| *s == 429), "{keyed:?}");
    assert!(get(&open, "/keyed").contains("QUOTA_EXCEEDED"));

    // Redis dies: `open` lets requests through, `closed` answers 503, both promptly.
    redis.stop();
    let started = Instant::now();
    assert_eq!(status(&get(&open, "/limited")), 200);
    let unavailable = get(&closed, "/limited");
    assert_eq!(status(&unavailable), 503, "{unavailable}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Redis returns, empty: both enforce limits again without a restart.
    redis.restart();
    for gateway in [&open, &closed] {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // The fresh bucket's first answers are 200s from Redis, not the fail-open path:
            // four in a row, then a 429, proves the store is back.
            let statuses: Vec<u16> = (0..5).map(|_| status(&get(gateway, "/limited"))).collect();
            if statuses.contains(&429) {
                break;
            }
            assert!(Instant::now() < deadline, "no recovery: {statuses:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    for gateway in [&mut open, &mut closed] {
        let _ = gateway.child.kill();
        let _ = gateway.child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
