//! The in-memory store, on a manual clock: exact GCRA decisions, atomicity under concurrency,
//! quota windows, key-value expiry and the sweep.

use std::sync::Arc;
use std::time::Duration;

use wasmgate_plugin_contract::rate_limit::{Bucket, Window, algorithm};
use wasmgate_store::clock::{Clock, ManualClock};
use wasmgate_store::limits::{MAX_TTL, MAX_VALUE_BYTES};
use wasmgate_store::{MemoryStore, RedisConfig, Store, StoreBackend, StoreConfig, StoreFailure};

/// 2026-11-21 15:30:00 UTC, a Saturday.
const NOW_S: u64 = 1_795_275_000;

fn store_at(seconds: u64) -> (MemoryStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_seconds(seconds));
    (MemoryStore::with_clock(clock.clone()), clock)
}

async fn allowed(store: &MemoryStore, key: &str, bucket: &Bucket, attempts: u32) -> u32 {
    let mut allowed = 0;
    for _ in 0..attempts {
        if store.check_bucket(key, bucket, 1).await.unwrap().allowed {
            allowed += 1;
        }
    }
    allowed
}

#[tokio::test]
async fn a_full_bucket_allows_the_burst_then_the_rate_per_period() {
    let (store, clock) = store_at(NOW_S);
    let bucket = Bucket::per_second(5, 10);
    assert_eq!(allowed(&store, "ip:1", &bucket, 25).await, 10);
    for _ in 0..3 {
        clock.advance(Duration::from_secs(1));
        assert_eq!(allowed(&store, "ip:1", &bucket, 25).await, 5);
    }
    // A fifth of a second earns exactly one request, to the microsecond.
    clock.advance(Duration::from_micros(199_999));
    assert_eq!(allowed(&store, "ip:1", &bucket, 1).await, 0);
    clock.advance(Duration::from_micros(1));
    assert_eq!(allowed(&store, "ip:1", &bucket, 1).await, 1);
    // Other keys have their own bucket.
    assert_eq!(allowed(&store, "ip:2", &bucket, 25).await, 10);
}

#[tokio::test]
async fn decisions_match_the_sdk_algorithm_exactly() {
    let (store, clock) = store_at(NOW_S);
    let bucket = Bucket::per_second(2, 3);
    let mut tat = None;
    for (step_us, cost) in [
        (0, 1),
        (0, 2),
        (0, 1),
        (400_000, 1),
        (100_000, 0),
        (2_000_000, 3),
    ] {
        clock.advance(Duration::from_micros(step_us));
        let now = clock.now_us();
        let (expected, new_tat) = algorithm::check_bucket(tat, now, &bucket, cost);
        tat = new_tat.or(tat);
        let decision = store.check_bucket("k", &bucket, cost).await.unwrap();
        assert_eq!(decision, expected, "at +{step_us} µs, cost {cost}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_on_one_key_allow_exactly_the_burst() {
    let (store, _clock) = store_at(NOW_S);
    let bucket = Bucket::per_second(10, 100);
    let tasks = 32;
    let start = Arc::new(tokio::sync::Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                allowed(&store, "hot", &bucket, 20).await
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await.unwrap();
    }
    assert_eq!(total, 100, "640 attempts at one frozen instant");
}

#[tokio::test]
async fn a_quota_runs_out_then_starts_again_in_the_next_window() {
    for window in [Window::Day, Window::Week, Window::Month] {
        let (_, end) = algorithm::window_bounds(window, NOW_S);
        let (store, clock) = store_at(end - 1);
        for used in 1..=3 {
            let decision = store.use_quota("key:k", 3, window, 1).await.unwrap();
            assert!(decision.allowed, "{window:?} use {used}");
            assert_eq!((decision.used, decision.remaining), (used, 3 - used));
            assert_eq!(decision.resets_at, end);
        }
        let refused = store.use_quota("key:k", 3, window, 1).await.unwrap();
        assert!(!refused.allowed, "{window:?}");
        assert_eq!((refused.used, refused.remaining), (3, 0));
        clock.advance(Duration::from_secs(1));
        let next = store.use_quota("key:k", 3, window, 1).await.unwrap();
        let (_, next_end) = algorithm::window_bounds(window, end);
        assert!(next.allowed, "{window:?} after the boundary");
        assert_eq!((next.used, next.resets_at), (1, next_end));
    }
}

#[tokio::test]
async fn a_refused_quota_use_is_not_counted_and_windows_count_apart() {
    let (store, _clock) = store_at(NOW_S);
    assert!(
        store
            .use_quota("k", 10, Window::Day, 8)
            .await
            .unwrap()
            .allowed
    );
    let too_much = store.use_quota("k", 10, Window::Day, 3).await.unwrap();
    assert_eq!((too_much.allowed, too_much.used), (false, 8));
    let fits = store.use_quota("k", 10, Window::Day, 2).await.unwrap();
    assert_eq!((fits.allowed, fits.remaining), (true, 0));
    // The same key's monthly quota has its own count.
    let monthly = store.use_quota("k", 100, Window::Month, 1).await.unwrap();
    assert_eq!(monthly.used, 1);
}

#[tokio::test]
async fn values_expire_after_their_ttl_and_can_be_deleted() {
    let (store, clock) = store_at(NOW_S);
    store
        .kv_set("t", b"alice", Duration::from_secs(60))
        .await
        .unwrap();
    store
        .kv_set("gone", b"x", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        store.kv_get("t").await.unwrap().as_deref(),
        Some(&b"alice"[..])
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(store.kv_get("gone").await.unwrap(), None);
    clock.advance(Duration::from_micros(58_999_999));
    assert!(store.kv_get("t").await.unwrap().is_some());
    clock.advance(Duration::from_micros(1));
    assert_eq!(store.kv_get("t").await.unwrap(), None);

    store
        .kv_set("d", b"v", Duration::from_secs(60))
        .await
        .unwrap();
    store.kv_delete("d").await.unwrap();
    store.kv_delete("never-set").await.unwrap();
    assert_eq!(store.kv_get("d").await.unwrap(), None);
}

#[tokio::test]
async fn ttls_over_a_day_are_shortened_to_a_day() {
    let (store, clock) = store_at(NOW_S);
    store.kv_set("k", b"v", MAX_TTL * 7).await.unwrap();
    clock.advance(MAX_TTL - Duration::from_micros(1));
    assert!(store.kv_get("k").await.unwrap().is_some());
    clock.advance(Duration::from_micros(1));
    assert_eq!(store.kv_get("k").await.unwrap(), None);
}

#[tokio::test]
async fn out_of_bounds_arguments_are_refused() {
    let (store, _clock) = store_at(NOW_S);
    assert!(invalid(store.kv_get("").await));
    let oversized = vec![0; MAX_VALUE_BYTES + 1];
    assert!(invalid(
        store.kv_set("k", &oversized, Duration::from_secs(1)).await
    ));
    assert!(invalid(store.kv_set("k", b"v", Duration::ZERO).await));
    let no_rate = Bucket::per_second(0, 1);
    assert!(invalid(store.check_bucket("k", &no_rate, 1).await));
    assert!(invalid(store.use_quota("", 1, Window::Day, 1).await));
    assert!(store.is_empty(), "nothing refused was stored");
}

fn invalid<T>(result: Result<T, StoreFailure>) -> bool {
    matches!(result, Err(StoreFailure::Invalid(_)))
}

#[tokio::test]
async fn a_sweep_drops_expired_entries_and_keeps_live_ones() {
    let (store, clock) = store_at(NOW_S);
    let bucket = Bucket::per_second(1, 1);
    for i in 0..200 {
        let key = format!("k{i}");
        store.check_bucket(&key, &bucket, 1).await.unwrap();
        store.use_quota(&key, 5, Window::Day, 1).await.unwrap();
        store
            .kv_set(&key, b"v", Duration::from_secs(10))
            .await
            .unwrap();
    }
    store
        .kv_set("long", b"v", Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(store.len(), 601);
    assert_eq!(store.sweep(), 0, "nothing has expired yet");
    // Buckets are full again after a second; values expire after ten; quotas at midnight.
    clock.advance(Duration::from_secs(10));
    assert_eq!(store.sweep(), 400);
    assert_eq!(store.len(), 201);
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(store.sweep(), 201);
    assert!(store.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_background_sweep_drops_expired_entries_by_itself() {
    let (store, clock) = store_at(NOW_S);
    for i in 0..100 {
        let key = format!("k{i}");
        store
            .kv_set(&key, b"v", Duration::from_secs(1))
            .await
            .unwrap();
    }
    clock.advance(Duration::from_secs(1));
    // Tokio's paused clock jumps ahead while the test waits: one full round of the sweep.
    let full_round = MemoryStore::SWEEP_INTERVAL * MemoryStore::SHARDS as u32;
    tokio::time::sleep(full_round + MemoryStore::SWEEP_INTERVAL).await;
    assert!(store.is_empty(), "{} entries left", store.len());
}

#[tokio::test]
async fn a_store_is_kept_across_reloads_only_for_the_same_config() {
    let store = Store::open(&StoreConfig::Memory).unwrap();
    assert!(store.same_config(&StoreConfig::Memory));
    assert!(store.is_connected());
    let redis = StoreConfig::Redis(RedisConfig::new("redis://127.0.0.1:6379"));
    assert!(!store.same_config(&redis));
}
