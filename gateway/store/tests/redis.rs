//! The Redis store against a real `redis-server` (started per test on a free port): the same
//! decisions as the memory store, one limit across replicas, expiring keys, and calls that fail
//! fast while Redis is away and work again, on the same store, once it is back.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmgate_plugin_contract::rate_limit::{Bucket, Window, algorithm};
use wasmgate_store::clock::ManualClock;
use wasmgate_store::limits::MAX_TTL;
use wasmgate_store::test_support::RedisServer;
use wasmgate_store::{
    MemoryStore, OpenError, RedisConfig, Store, StoreBackend, StoreConfig, StoreFailure,
};

/// Generous for a loaded machine: these tests are about behaviour, not speed. The timeout
/// tests set their own.
const PATIENT: Duration = Duration::from_secs(2);
/// The longest a test waits for the store to (re)connect.
const RECONNECT_DEADLINE: Duration = Duration::from_secs(15);

fn config(server: &RedisServer) -> StoreConfig {
    StoreConfig::Redis(RedisConfig {
        command_timeout: PATIENT,
        ..RedisConfig::new(server.url())
    })
}

async fn connected_store(config: &StoreConfig) -> Store {
    let store = Store::open(config).unwrap();
    wait_until("the store connects", || async { store.is_connected() }).await;
    store
}

/// Polls `condition` until it holds, failing the test after [`RECONNECT_DEADLINE`].
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + RECONNECT_DEADLINE;
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {RECONNECT_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn raw_connection(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(server.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn hourly(rate: u32, burst: u32) -> Bucket {
    Bucket {
        rate,
        period: Duration::from_secs(3600),
        burst,
    }
}

#[tokio::test]
async fn redis_buckets_decide_like_the_memory_store() {
    let server = RedisServer::start();
    let redis = connected_store(&config(&server)).await;
    let memory = MemoryStore::with_clock(Arc::new(ManualClock::at_seconds(1_800_000_000)));
    // Slow enough that the milliseconds this test takes refill nothing.
    let bucket = hourly(5, 10);
    for (attempt, cost) in [1, 1, 3, 0, 1, 1, 1, 1, 1, 1, 1, 2, 0]
        .into_iter()
        .enumerate()
    {
        let from_redis = redis.check_bucket("ip:1", &bucket, cost).await.unwrap();
        let from_memory = memory.check_bucket("ip:1", &bucket, cost).await.unwrap();
        let what = format!("attempt {attempt} of cost {cost}: {from_redis:?} vs {from_memory:?}");
        assert_eq!(from_redis.allowed, from_memory.allowed, "{what}");
        assert_eq!(from_redis.remaining, from_memory.remaining, "{what}");
        // Redis's clock runs while the memory store's is frozen: only that much apart.
        let drift = from_memory
            .reset_after
            .saturating_sub(from_redis.reset_after);
        assert!(
            from_redis.reset_after <= from_memory.reset_after && drift < PATIENT,
            "{what}"
        );
        let drift = from_memory.retry_after.abs_diff(from_redis.retry_after);
        assert!(drift < PATIENT, "{what}");
    }
    let refused = redis.check_bucket("ip:1", &bucket, 1).await.unwrap();
    assert!(!refused.allowed && refused.retry_after > Duration::from_secs(700));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_enforce_one_combined_bucket_and_quota() {
    let server = RedisServer::start();
    let replicas = [
        connected_store(&config(&server)).await,
        connected_store(&config(&server)).await,
    ];
    let bucket = hourly(1, 20);
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let store = replicas[task % 2].clone();
            tokio::spawn(async move {
                let mut allowed = (0, 0);
                for _ in 0..5 {
                    if store
                        .check_bucket("shared", &bucket, 1)
                        .await
                        .unwrap()
                        .allowed
                    {
                        allowed.0 += 1;
                    }
                    let quota = store.use_quota("shared", 7, Window::Day, 1).await.unwrap();
                    if quota.allowed {
                        allowed.1 += 1;
                    }
                }
                allowed
            })
        })
        .collect();
    let (mut bucket_allowed, mut quota_allowed) = (0, 0);
    for task in tasks {
        let (b, q) = task.await.unwrap();
        bucket_allowed += b;
        quota_allowed += q;
    }
    assert_eq!(
        bucket_allowed, 20,
        "80 attempts over two replicas, burst 20"
    );
    assert_eq!(quota_allowed, 7, "80 uses over two replicas, limit 7");
    let last = replicas[1]
        .use_quota("shared", 7, Window::Day, 0)
        .await
        .unwrap();
    assert_eq!((last.used, last.remaining), (7, 0));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(last.resets_at, algorithm::window_bounds(Window::Day, now).1);
}

#[tokio::test]
async fn values_are_stored_expire_and_can_be_deleted() {
    let server = RedisServer::start();
    let store = connected_store(&config(&server)).await;
    store
        .kv_set("session", b"alice", Duration::from_secs(3600))
        .await
        .unwrap();
    store
        .kv_set("brief", b"x", Duration::from_millis(1))
        .await
        .unwrap();
    let session = store.kv_get("session").await.unwrap();
    assert_eq!(session.as_deref(), Some(&b"alice"[..]));
    wait_until("the 1 ms value expires", || async {
        store.kv_get("brief").await.unwrap().is_none()
    })
    .await;
    assert!(store.kv_get("session").await.unwrap().is_some());
    store.kv_delete("session").await.unwrap();
    store.kv_delete("never-set").await.unwrap();
    assert_eq!(store.kv_get("session").await.unwrap(), None);
    let binary: Vec<u8> = (0..=255).collect();
    store
        .kv_set("bytes", &binary, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(store.kv_get("bytes").await.unwrap(), Some(binary));
}

#[tokio::test]
async fn every_key_expires_once_it_no_longer_matters() {
    let server = RedisServer::start();
    let store = connected_store(&config(&server)).await;
    let mut raw = raw_connection(&server).await;
    let pttl = |key: &str| redis::cmd("PTTL").arg(key).clone();

    // Three requests at 5 per second put the bucket 600 ms behind: full again after that.
    store
        .check_bucket("k", &Bucket::per_second(5, 10), 3)
        .await
        .unwrap();
    let ttl: i64 = pttl("wasmgate:bucket:k")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((1..=600).contains(&ttl), "bucket PTTL {ttl}");

    let decision = store.use_quota("k", 10, Window::Day, 1).await.unwrap();
    let start = decision.resets_at - 86_400;
    let key = format!("wasmgate:quota:day:{start}:k");
    let ttl: i64 = pttl(&key).query_async(&mut raw).await.unwrap();
    assert!((1..=86_400_000).contains(&ttl), "quota PTTL {ttl}");

    store.kv_set("k", b"v", MAX_TTL * 2).await.unwrap();
    let ttl: i64 = pttl("wasmgate:kv:k").query_async(&mut raw).await.unwrap();
    let max_ms = MAX_TTL.as_millis() as i64;
    assert!((max_ms - 60_000..=max_ms).contains(&ttl), "kv PTTL {ttl}");

    // A refused request or a zero-cost read writes nothing.
    store
        .check_bucket("untouched", &Bucket::per_second(1, 1), 0)
        .await
        .unwrap();
    let exists: i64 = redis::cmd("EXISTS")
        .arg("wasmgate:bucket:untouched")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn the_key_prefix_separates_gateways_sharing_one_redis() {
    let server = RedisServer::start();
    let tenant = |prefix: &str| {
        StoreConfig::Redis(RedisConfig {
            key_prefix: prefix.to_owned(),
            command_timeout: PATIENT,
            ..RedisConfig::new(server.url())
        })
    };
    let a = connected_store(&tenant("a")).await;
    let b = connected_store(&tenant("b")).await;
    a.kv_set("k", b"from a", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(b.kv_get("k").await.unwrap(), None);
    let bucket = hourly(1, 1);
    assert!(a.check_bucket("k", &bucket, 1).await.unwrap().allowed);
    assert!(b.check_bucket("k", &bucket, 1).await.unwrap().allowed);
    assert!(a.same_config(&tenant("a")) && !a.same_config(&tenant("b")));
}

#[tokio::test]
async fn scripts_the_server_forgot_are_sent_again() {
    let server = RedisServer::start();
    let store = connected_store(&config(&server)).await;
    let mut raw = raw_connection(&server).await;
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .exec_async(&mut raw)
        .await
        .unwrap();
    let decision = store.check_bucket("k", &hourly(1, 2), 1).await.unwrap();
    assert!(decision.allowed);
    assert!(
        store
            .use_quota("k", 1, Window::Month, 1)
            .await
            .unwrap()
            .allowed
    );
}

/// The failure of a call that must not take long, with how long it took.
async fn timed_failure<T: std::fmt::Debug>(
    call: impl Future<Output = Result<T, StoreFailure>>,
) -> (String, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("a store call hung for 10 s");
    match result {
        Err(StoreFailure::Unavailable(reason)) => (reason, started.elapsed()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn calls_fail_fast_while_redis_is_down_and_work_again_once_it_is_back() {
    let mut server = RedisServer::start();
    let store = connected_store(&config(&server)).await;
    let bucket = hourly(100, 100);
    store.check_bucket("k", &bucket, 1).await.unwrap();

    server.stop();
    for _ in 0..20 {
        let (reason, took) = timed_failure(store.check_bucket("k", &bucket, 1)).await;
        assert!(took < PATIENT, "took {took:?}: {reason}");
        let server_name = format!("redis 127.0.0.1:{}: ", server.port());
        assert!(reason.starts_with(&server_name), "{reason}");
    }
    wait_until("the store notices", || async { !store.is_connected() }).await;
    // Disconnected: no command is even attempted.
    let (reason, took) = timed_failure(store.kv_get("k")).await;
    assert!(took < PATIENT, "took {took:?} while disconnected");
    assert!(reason.contains("not connected (last error: "), "{reason}");

    server.restart();
    wait_until("calls succeed again", || async {
        store
            .kv_set("k", b"back", Duration::from_secs(60))
            .await
            .is_ok()
    })
    .await;
    assert_eq!(
        store.kv_get("k").await.unwrap().as_deref(),
        Some(&b"back"[..])
    );
    assert!(store.check_bucket("k", &bucket, 1).await.unwrap().allowed);
}

#[tokio::test]
async fn a_store_opened_while_redis_is_down_connects_once_it_starts() {
    let mut server = RedisServer::start();
    server.stop();
    let started = Instant::now();
    let store = Store::open(&config(&server)).unwrap();
    assert!(started.elapsed() < PATIENT, "open waited on Redis");
    assert!(!store.is_connected());
    let (reason, took) = timed_failure(store.use_quota("k", 1, Window::Day, 1)).await;
    assert!(took < PATIENT, "took {took:?}: {reason}");

    server.restart();
    wait_until("the store connects", || async { store.is_connected() }).await;
    assert!(
        store
            .use_quota("k", 1, Window::Day, 1)
            .await
            .unwrap()
            .allowed
    );
}

#[tokio::test]
async fn a_command_redis_does_not_answer_in_time_fails_after_the_command_timeout() {
    let server = RedisServer::start();
    let config = StoreConfig::Redis(RedisConfig {
        command_timeout: Duration::from_millis(50),
        ..RedisConfig::new(server.url())
    });
    let store = connected_store(&config).await;
    let mut raw = raw_connection(&server).await;
    // Redis holds every client's commands for 500 ms.
    let pause = redis::cmd("CLIENT").arg(&["PAUSE", "500", "ALL"]).clone();
    pause.exec_async(&mut raw).await.unwrap();
    let (reason, took) = timed_failure(store.kv_get("k")).await;
    let expected = format!(
        "redis 127.0.0.1:{}: command timed out after 50ms",
        server.port()
    );
    assert_eq!(reason, expected);
    assert!(
        took >= Duration::from_millis(50) && took < PATIENT,
        "took {took:?}"
    );

    // Once Redis answers again, the same connection serves the right replies (the late reply
    // to the timed-out call is not mistaken for a later call's).
    wait_until("calls succeed again", || async {
        let written = store.kv_set("k", b"v1", Duration::from_secs(60)).await;
        match (written, store.kv_get("k").await) {
            (Ok(()), Ok(value)) => {
                assert_eq!(value.as_deref(), Some(&b"v1"[..]));
                true
            }
            // A loaded machine may still miss the 50 ms budget now and then.
            _ => false,
        }
    })
    .await;
}

#[tokio::test]
async fn bad_urls_and_timeouts_are_refused_at_open_without_leaking_the_password() {
    let url = "redis://app:hunter2@cache:notaport/0";
    let err = Store::open(&StoreConfig::Redis(RedisConfig::new(url))).unwrap_err();
    assert!(matches!(&err, OpenError::InvalidUrl { .. }), "{err}");
    let message = err.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("redis://app:***@cache:notaport/0"),
        "{message}"
    );

    let zero = RedisConfig {
        command_timeout: Duration::ZERO,
        ..RedisConfig::new("redis://127.0.0.1:1")
    };
    let err = Store::open(&StoreConfig::Redis(zero)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid store setting: redis `command_timeout` must be at least 1 ms"
    );
}

#[test]
fn a_redis_store_needs_a_tokio_runtime() {
    let config = StoreConfig::Redis(RedisConfig::new("redis://127.0.0.1:1"));
    assert_eq!(Store::open(&config).unwrap_err(), OpenError::NoRuntime);
}

#[tokio::test]
async fn a_hung_redis_costs_each_call_at_most_the_command_timeout() {
    let server = RedisServer::start();
    let config = StoreConfig::Redis(RedisConfig {
        command_timeout: Duration::from_millis(50),
        connect_timeout: Duration::from_millis(200),
        ..RedisConfig::new(server.url())
    });
    let store = connected_store(&config).await;
    server.pause();
    let (reason, took) = timed_failure(store.kv_get("k")).await;
    assert!(reason.ends_with("command timed out after 50ms"), "{reason}");
    assert!(took < PATIENT, "took {took:?}");
    // The timeout triggers a health check that gives up on the connection within the connect
    // timeout; from then on calls fail without waiting at all.
    wait_until("the store gives up on the hung connection", || async {
        !store.is_connected()
    })
    .await;
    let (reason, took) = timed_failure(store.kv_get("k")).await;
    assert!(reason.contains("not connected (last error: "), "{reason}");
    assert!(took < PATIENT, "took {took:?}");

    server.resume();
    wait_until("calls succeed again", || async {
        store.kv_get("k").await.is_ok()
    })
    .await;
}

#[tokio::test]
async fn dropping_the_store_closes_its_connection() {
    let server = RedisServer::start();
    let store = connected_store(&config(&server)).await;
    let mut raw = raw_connection(&server).await;
    let clients = || redis::cmd("CLIENT").arg("LIST").clone();
    let listed: String = clients().query_async(&mut raw).await.unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    drop(store);
    wait_until("the store's connection closes", || {
        let mut raw = raw.clone();
        async move {
            let listed: String = clients().query_async(&mut raw).await.unwrap();
            listed.lines().count() == 1
        }
    })
    .await;
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn rediss_urls_speak_tls() {
    let server = RedisServer::start();
    let config = RedisConfig {
        connect_timeout: Duration::from_millis(200),
        ..RedisConfig::new(server.url().replace("redis://", "rediss://"))
    };
    let store = Store::open(&StoreConfig::Redis(config)).unwrap();
    // A plaintext server never completes the TLS handshake: every attempt fails, the store
    // stays disconnected and says why.
    wait_until("a connection attempt fails", || async {
        match store.kv_get("k").await {
            Err(StoreFailure::Unavailable(reason)) => reason.contains("(last error: "),
            other => panic!("a TLS client talked to a plaintext server: {other:?}"),
        }
    })
    .await;
    assert!(!store.is_connected());
}
