//! The `api_keys` plugin against the SDK's fake host: a frozen clock makes every throttle and
//! quota figure exact, and the fake store runs the gateway's own GCRA and windows.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, SystemTime};

use api_keys::{ApiKeys, hash_key};
use serde_json::{Value, json};
use wasmgate_plugin_sdk::log::Level;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, InitError, ResponseData, Stage};

/// 2026-11-21 (a Saturday) 00:00:00 UTC.
const SATURDAY: u64 = 1_795_219_200;
/// 2026-12-01 00:00:00 UTC.
const DECEMBER: u64 = 1_796_083_200;

fn at(seconds: u64, millis: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
}

fn key(id: &str, secret: &str, plan: &str) -> Value {
    json!({ "id": id, "hash": hash_key(secret), "plan": plan })
}

/// One key per plan, named after it: secret `<plan>-secret`, id `k-<plan>`.
fn plugin_with(plans: Value, extra: Value) -> ApiKeys {
    let keys: Vec<Value> = plans
        .as_object()
        .unwrap()
        .keys()
        .map(|plan| key(&format!("k-{plan}"), &format!("{plan}-secret"), plan))
        .collect();
    let mut config = json!({ "plans": plans, "keys": keys });
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    testing::init::<ApiKeys>(config).expect("valid config")
}

fn plugin(plans: Value) -> ApiKeys {
    plugin_with(plans, json!({}))
}

fn with_key(secret: &str) -> FakeRequest {
    FakeRequest::new("GET", "/orders").header("x-api-key", secret)
}

/// Runs METHOD REQUEST; the request and context as the plugin left them.
fn call(plugin: &ApiKeys, mut request: FakeRequest) -> (Action, FakeRequest, FakeContext) {
    let mut context = FakeContext::new();
    let action = testing::method_request(plugin, &mut request, &mut context);
    (action, request, context)
}

fn refusal(plugin: &ApiKeys, request: FakeRequest) -> ResponseData {
    match call(plugin, request).0 {
        Action::Respond(response) => response,
        Action::Continue => panic!("expected a refusal"),
    }
}

fn error_type(response: &ResponseData) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    body["type"].as_str().unwrap().to_owned()
}

/// How many of `n` requests with `secret` go through.
fn allowed(plugin: &ApiKeys, secret: &str, n: u32) -> u32 {
    (0..n)
        .filter(|_| call(plugin, with_key(secret)).0.is_continue())
        .count() as u32
}

#[test]
fn accepts_a_known_key_names_it_and_hides_it_from_the_backend() {
    let plugin = plugin(json!({ "gold": {} }));
    let (action, request, context) = call(&plugin, with_key("gold-secret"));
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get(api_keys::KEY_ID), Some("k-gold"));
    assert_eq!(context.get(api_keys::KEY_PLAN), Some("gold"));
    assert_eq!(request.header_str("x-api-key"), None);
}

#[test]
fn forwards_the_key_when_asked_to() {
    let plugin = plugin_with(json!({ "gold": {} }), json!({ "forward_key": true }));
    let (action, request, _) = call(&plugin, with_key("gold-secret"));
    assert_eq!(action, Action::Continue);
    assert_eq!(request.header_str("x-api-key"), Some("gold-secret"));
}

#[test]
fn reads_the_key_from_a_query_parameter_and_removes_it() {
    let plugin = plugin_with(
        json!({ "gold": {} }),
        json!({ "source": { "query": "api_key" } }),
    );
    let request = FakeRequest::new("GET", "/orders?page=2&api_key=gold%2Dsecret");
    let (action, request, _) = call(&plugin, request);
    assert_eq!(action, Action::Continue);
    assert_eq!(request.query(), Some("page=2"));
    let in_header = refusal(&plugin, with_key("gold-secret"));
    assert_eq!(in_header.status, 403);
}

#[test]
fn refuses_a_missing_key_with_403_saying_where_to_send_it() {
    let plugin = plugin(json!({ "gold": {} }));
    for request in [FakeRequest::new("GET", "/orders"), with_key("")] {
        let response = refusal(&plugin, request);
        assert_eq!(response.status, 403);
        assert_eq!(
            response.body_str(),
            Some(
                r#"{"message":"Missing API key: send it in the x-api-key header","type":"INVALID_API_KEY","requestId":"test-request-id"}"#
            )
        );
    }
}

#[test]
fn refuses_unknown_and_disabled_keys_alike_without_echoing_them() {
    let config = json!({
        "plans": { "gold": {} },
        "keys": [
            key("k-1", "live-secret", "gold"),
            { "id": "k-2", "hash": hash_key("old-secret"), "plan": "gold", "enabled": false },
        ],
    });
    let plugin = testing::init::<ApiKeys>(config).unwrap();
    let unknown = refusal(&plugin, with_key("guess-secret"));
    let disabled = refusal(&plugin, with_key("old-secret"));
    assert_eq!(
        (unknown.status, error_type(&unknown)),
        (403, "INVALID_API_KEY".into())
    );
    assert_eq!(unknown, disabled);
    assert!(!unknown.body_str().unwrap().contains("guess-secret"));
    let (_, _, context) = call(&plugin, with_key("old-secret"));
    assert_eq!(context.get(api_keys::KEY_ID), None);
    assert!(call(&plugin, with_key("live-secret")).0.is_continue());
}

#[test]
fn a_key_gets_its_burst_at_once_then_exactly_its_rate() {
    testing::freeze_clock(at(SATURDAY, 0));
    let plugin =
        plugin(json!({ "gold": { "throttle": { "rate": 2, "burst": 4, "period": "1s" } } }));
    assert_eq!(allowed(&plugin, "gold-secret", 10), 4);
    let throttled = refusal(&plugin, with_key("gold-secret"));
    assert_eq!(
        (throttled.status, error_type(&throttled)),
        (429, "THROTTLED".into())
    );
    // The next token comes in 500 ms: rounded up to a whole second.
    assert_eq!(throttled.header_str("retry-after"), Some("1"));
    // Over the next ten seconds, exactly rate × 10 get through, however hard the key tries.
    let mut total = 0;
    for _ in 0..100 {
        testing::advance_clock(Duration::from_millis(100));
        total += allowed(&plugin, "gold-secret", 5);
    }
    assert_eq!(total, 20);
}

#[test]
fn retry_after_counts_the_whole_wait_in_seconds() {
    testing::freeze_clock(at(SATURDAY, 0));
    let plugin = plugin(json!({
        "minute": { "throttle": { "rate": 1, "period": "1m" } },
        "third": { "throttle": { "rate": 3, "burst": 1 } },
    }));
    assert_eq!(allowed(&plugin, "minute-secret", 2), 1);
    let response = refusal(&plugin, with_key("minute-secret"));
    assert_eq!(response.header_str("retry-after"), Some("60"));
    testing::advance_clock(Duration::from_secs(59));
    assert_eq!(
        refusal(&plugin, with_key("minute-secret")).header_str("retry-after"),
        Some("1")
    );
    testing::advance_clock(Duration::from_secs(1));
    assert_eq!(allowed(&plugin, "minute-secret", 2), 1);
    // 333 ms to wait: still one second.
    assert_eq!(allowed(&plugin, "third-secret", 2), 1);
    assert_eq!(
        refusal(&plugin, with_key("third-secret")).header_str("retry-after"),
        Some("1")
    );
}

#[test]
fn keys_on_one_plan_have_their_own_buckets() {
    testing::freeze_clock(at(SATURDAY, 0));
    let config = json!({
        "plans": { "gold": { "throttle": { "rate": 1 } } },
        "keys": [key("k-1", "s-1", "gold"), key("k-2", "s-2", "gold")],
    });
    let plugin = testing::init::<ApiKeys>(config).unwrap();
    assert_eq!(allowed(&plugin, "s-1", 3), 1);
    assert_eq!(allowed(&plugin, "s-2", 3), 1);
}

#[test]
fn throttled_requests_do_not_use_quota() {
    testing::freeze_clock(at(SATURDAY, 0));
    let plugin = plugin(json!({
        "gold": { "throttle": { "rate": 1 }, "quota": { "limit": 2, "period": "day" } },
    }));
    assert_eq!(allowed(&plugin, "gold-secret", 5), 1);
    testing::advance_clock(Duration::from_secs(1));
    let (action, _, context) = call(&plugin, with_key("gold-secret"));
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get(api_keys::QUOTA_REMAINING), Some("0"));
    testing::advance_clock(Duration::from_secs(1));
    let spent = refusal(&plugin, with_key("gold-secret"));
    assert_eq!(
        (spent.status, error_type(&spent)),
        (429, "QUOTA_EXCEEDED".into())
    );
}

#[test]
fn a_spent_daily_quota_comes_back_at_midnight_utc() {
    testing::freeze_clock(at(SATURDAY + 86_398, 0));
    let plugin = plugin(json!({ "free": { "quota": { "limit": 3, "period": "day" } } }));
    let (_, _, context) = call(&plugin, with_key("free-secret"));
    assert_eq!(context.get(api_keys::QUOTA_LIMIT), Some("3"));
    assert_eq!(context.get(api_keys::QUOTA_REMAINING), Some("2"));
    let midnight = (SATURDAY + 86_400).to_string();
    assert_eq!(
        context.get(api_keys::QUOTA_RESETS_AT),
        Some(midnight.as_str())
    );
    assert_eq!(allowed(&plugin, "free-secret", 5), 2);
    let spent = refusal(&plugin, with_key("free-secret"));
    assert_eq!(
        (spent.status, error_type(&spent)),
        (429, "QUOTA_EXCEEDED".into())
    );
    assert_eq!(spent.header_str("retry-after"), Some("2"));
    testing::advance_clock(Duration::from_millis(1_999));
    assert_eq!(allowed(&plugin, "free-secret", 1), 0);
    testing::advance_clock(Duration::from_millis(1));
    assert_eq!(allowed(&plugin, "free-secret", 5), 3);
}

#[test]
fn a_spent_monthly_quota_comes_back_on_the_first_of_the_month() {
    testing::freeze_clock(at(DECEMBER - 1, 500));
    let plugin = plugin(json!({ "pro": { "quota": { "limit": 1, "period": "month" } } }));
    assert_eq!(allowed(&plugin, "pro-secret", 3), 1);
    // Half a second to go: rounded up.
    assert_eq!(
        refusal(&plugin, with_key("pro-secret")).header_str("retry-after"),
        Some("1")
    );
    testing::advance_clock(Duration::from_millis(500));
    assert_eq!(allowed(&plugin, "pro-secret", 3), 1);
}

#[test]
fn sends_quota_headers_on_every_response_when_enabled() {
    testing::freeze_clock(at(SATURDAY + 86_000, 0));
    let plans = json!({ "free": { "quota": { "limit": 1, "period": "day" } }, "open": {} });
    let plugin = plugin_with(plans.clone(), json!({ "quota_headers": true }));
    assert!(
        testing::init::<ApiKeys>(json!({ "plans": plans }))
            .is_ok_and(|p| { !wasmgate_plugin_sdk::Plugin::stages(&p).has(Stage::MethodResponse) })
    );
    let respond = |secret: &str| {
        let (_, request, mut context) = call(&plugin, with_key(secret));
        let mut response = FakeResponse::new(200);
        let action = testing::method_response(&plugin, &request, &mut response, &mut context);
        assert_eq!(action, Action::Continue);
        response
    };
    let first = respond("free-secret");
    assert_eq!(first.header_str("x-quota-limit"), Some("1"));
    assert_eq!(first.header_str("x-quota-remaining"), Some("0"));
    assert_eq!(first.header_str("x-quota-reset"), Some("400"));
    // The 429 gets them too (METHOD RESPONSE runs on plugin answers).
    let second = respond("free-secret");
    assert_eq!(second.header_str("x-quota-remaining"), Some("0"));
    // A plan without a quota: nothing to tell.
    assert_eq!(respond("open-secret").header_str("x-quota-limit"), None);
}

fn keys_file(keys: &[(&str, &str)]) -> String {
    keys.iter()
        .map(|(id, secret)| {
            format!(
                "[[keys]]\nid = \"{id}\"\nhash = \"{}\"\nplan = \"gold\"\n",
                hash_key(secret)
            )
        })
        .collect()
}

fn document_plugin() -> ApiKeys {
    let config = json!({
        "plans": { "gold": {} },
        "keys": [key("k-inline", "inline-secret", "gold")],
        "keys_document": "keys",
    });
    testing::init::<ApiKeys>(config).expect("valid config")
}

#[test]
fn takes_keys_from_a_document_and_rereads_it_when_it_changes() {
    testing::set_document("keys", keys_file(&[("k-doc", "first-secret")]).as_bytes());
    let plugin = document_plugin();
    assert!(call(&plugin, with_key("first-secret")).0.is_continue());
    assert!(call(&plugin, with_key("inline-secret")).0.is_continue());
    testing::take_log_lines();
    testing::set_document("keys", keys_file(&[("k-new", "second-secret")]).as_bytes());
    assert_eq!(refusal(&plugin, with_key("first-secret")).status, 403);
    let (action, _, context) = call(&plugin, with_key("second-secret"));
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get(api_keys::KEY_ID), Some("k-new"));
    assert!(call(&plugin, with_key("inline-secret")).0.is_continue());
    let loaded: Vec<_> = testing::take_log_lines()
        .into_iter()
        .filter(|line| line.message == "API keys document loaded")
        .collect();
    assert_eq!(loaded.len(), 1, "parsed once per version");
    assert_eq!(
        (loaded[0].field("version"), loaded[0].field("keys")),
        (Some("2"), Some("2"))
    );
}

#[test]
fn keeps_the_previous_keys_when_a_new_document_is_invalid() {
    testing::set_document("keys", keys_file(&[("k-doc", "first-secret")]).as_bytes());
    let plugin = document_plugin();
    testing::set_document(
        "keys",
        b"[[keys]]\nid = \"k-doc\"\nhash = \"plaintext\"\nplan = \"gold\"\n",
    );
    assert!(call(&plugin, with_key("first-secret")).0.is_continue());
    assert!(call(&plugin, with_key("first-secret")).0.is_continue());
    let errors: Vec<_> = testing::take_log_lines()
        .into_iter()
        .filter(|line| line.level == Level::Error)
        .collect();
    assert_eq!(errors.len(), 1, "logged once per version: {errors:?}");
    assert_eq!(
        errors[0].message,
        "API keys document refused, the previous keys stay in force"
    );
    assert!(!errors[0].field("error").unwrap().contains("plaintext"));
}

#[test]
fn an_invalid_or_missing_document_fails_the_load() {
    let err = testing::init::<ApiKeys>(json!({ "plans": {}, "keys_document": "keys" }));
    assert!(
        matches!(&err, Err(InitError::InvalidConfig(m)) if m.starts_with("`keys_document`: no document `keys`")),
        "{err:?}"
    );
    testing::set_document("keys", keys_file(&[("k-1", "s"), ("k-1", "t")]).as_bytes());
    let err = testing::init::<ApiKeys>(json!({ "plans": { "gold": {} }, "keys_document": "keys" }));
    assert_eq!(
        err.unwrap_err(),
        InitError::InvalidConfig(
            "`keys_document`: document `keys`: `keys[1].id`: `k-1` is also the id of `keys[0]`"
                .into()
        )
    );
}

#[test]
fn fails_closed_with_503_when_the_store_is_down() {
    let plugin = plugin(json!({
        "gold": { "throttle": { "rate": 10 } },
        "free": { "quota": { "limit": 10, "period": "day" } },
        "open": {},
    }));
    testing::set_store_unavailable(true);
    for secret in ["gold-secret", "free-secret"] {
        let response = refusal(&plugin, with_key(secret));
        assert_eq!(
            (response.status, error_type(&response)),
            (503, "SERVICE_UNAVAILABLE".into())
        );
    }
    let logged = testing::take_log_lines();
    assert_eq!(logged.len(), 2);
    assert!(
        logged
            .iter()
            .all(|line| line.level == Level::Error && line.message.contains("store unavailable"))
    );
    // A plan without throttle or quota does not need the store.
    assert!(call(&plugin, with_key("open-secret")).0.is_continue());
    testing::set_store_unavailable(false);
    assert!(call(&plugin, with_key("gold-secret")).0.is_continue());
}
