//! The `rate_limiter` plugin against the SDK's fake host: a frozen clock makes every figure
//! exact, and the fake store runs the gateway's own GCRA.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, SystemTime};

use rate_limiter::RateLimiter;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::log::Level;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, Plugin, ResponseData, Stage};

fn freeze() {
    testing::freeze_clock(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_219_200));
}

fn plugin(config: Value) -> RateLimiter {
    testing::init::<RateLimiter>(config).expect("valid config")
}

fn get() -> FakeRequest {
    FakeRequest::new("GET", "/orders")
}

fn on(route: &str) -> FakeContext {
    FakeContext::new().with("gateway.route-id", route)
}

fn from(ip: &str) -> FakeContext {
    FakeContext::new().with("gateway.client-ip", ip)
}

/// Runs METHOD REQUEST, then METHOD RESPONSE on a 200 when the request went on; the plugin's
/// answer or the backend's response as the client gets it.
fn exchange(
    plugin: &RateLimiter,
    mut request: FakeRequest,
    mut context: FakeContext,
) -> ResponseData {
    let action = testing::method_request(plugin, &mut request, &mut context);
    let mut response = match action {
        Action::Continue => FakeResponse::new(200),
        Action::Respond(answer) => {
            let mut response = FakeResponse::new(answer.status);
            for (name, value) in &answer.headers {
                response = response.header(name, value);
            }
            response.body(answer.body)
        }
    };
    let action = testing::method_response(plugin, &request, &mut response, &mut context);
    assert_eq!(action, Action::Continue);
    let mut data = ResponseData::new(response.status()).body(response.body_bytes().to_vec());
    for (name, value) in response.headers().iter() {
        data = data.header(name, value);
    }
    data
}

/// How many of `n` requests go through.
fn allowed(plugin: &RateLimiter, n: u32, request: impl Fn() -> (FakeRequest, FakeContext)) -> u32 {
    (0..n)
        .filter(|_| {
            let (mut request, mut context) = request();
            testing::method_request(plugin, &mut request, &mut context).is_continue()
        })
        .count() as u32
}

fn plain() -> (FakeRequest, FakeContext) {
    (get(), FakeContext::new())
}

fn headers(response: &ResponseData) -> [Option<&str>; 3] {
    ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"]
        .map(|name| response.header_str(name))
}

fn error_type(response: &ResponseData) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    body["type"].as_str().unwrap().to_owned()
}

#[test]
fn a_client_gets_its_burst_at_once_then_exactly_the_rate() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 2, "burst": 4 } }));
    assert_eq!(allowed(&plugin, 10, plain), 4);
    let mut total = 0;
    for _ in 0..100 {
        testing::advance_clock(Duration::from_millis(100));
        total += allowed(&plugin, 5, plain);
    }
    assert_eq!(total, 20, "rate × 10 s, not one more");
}

#[test]
fn a_refusal_says_when_to_retry_with_ratelimit_headers() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 2, "burst": 4 } }));
    assert_eq!(allowed(&plugin, 4, plain), 4);
    let refused = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(
        (refused.status, error_type(&refused)),
        (429, "THROTTLED".into())
    );
    // The next token in 500 ms (rounded up); the bucket full again in 2 s.
    assert_eq!(refused.header_str("retry-after"), Some("1"));
    assert_eq!(headers(&refused), [Some("4"), Some("0"), Some("2")]);
    testing::advance_clock(Duration::from_millis(499));
    assert_eq!(allowed(&plugin, 1, plain), 0);
    testing::advance_clock(Duration::from_millis(1));
    assert_eq!(allowed(&plugin, 1, plain), 1);
}

#[test]
fn allowed_responses_count_down_the_ratelimit_headers() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 2, "burst": 4 } }));
    let remaining: Vec<_> = (0..4)
        .map(|_| {
            let response = exchange(&plugin, get(), FakeContext::new());
            assert_eq!(response.status, 200);
            headers(&response).map(|value| value.unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        remaining,
        [
            ["4", "3", "1"],
            ["4", "2", "1"],
            ["4", "1", "2"],
            ["4", "0", "2"]
        ]
        .map(|h| h.map(str::to_owned))
    );
}

#[test]
fn retry_after_counts_the_whole_wait_in_seconds() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 1, "period": "1m" } }));
    assert_eq!(allowed(&plugin, 2, plain), 1);
    let refused = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(refused.header_str("retry-after"), Some("60"));
    assert_eq!(headers(&refused), [Some("1"), Some("0"), Some("60")]);
    testing::advance_clock(Duration::from_millis(59_001));
    assert_eq!(
        exchange(&plugin, get(), FakeContext::new()).header_str("retry-after"),
        Some("1")
    );
}

#[test]
fn without_response_headers_only_refusals_carry_them() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 1 }, "response_headers": false }));
    assert!(!plugin.stages().has(Stage::MethodResponse));
    let allowed = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(headers(&allowed), [None, None, None]);
    let refused = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(headers(&refused), [Some("1"), Some("0"), Some("1")]);
}

#[test]
fn the_method_limit_beats_the_route_limit_which_beats_the_default() {
    freeze();
    let plugin = plugin(json!({
        "default": { "rate": 1, "burst": 5 },
        "routes": {
            "orders": { "rate": 1, "burst": 3, "methods": { "POST": { "rate": 1, "burst": 1 } } },
        },
    }));
    let limit_of = |method: &str, route: &str| {
        let response = exchange(&plugin, FakeRequest::new(method, "/x"), on(route));
        response.header_str("ratelimit-limit").map(str::to_owned)
    };
    assert_eq!(limit_of("POST", "orders").as_deref(), Some("1"));
    assert_eq!(limit_of("GET", "orders").as_deref(), Some("3"));
    assert_eq!(limit_of("GET", "books").as_deref(), Some("5"));
}

#[test]
fn each_limit_has_its_own_buckets() {
    freeze();
    let plugin = plugin(json!({
        "default": { "rate": 1, "burst": 2 },
        "routes": { "orders": { "methods": { "POST": { "rate": 1, "burst": 1 } } } },
    }));
    let post_orders = || (FakeRequest::new("POST", "/orders"), on("orders"));
    let get_orders = || (get(), on("orders"));
    let get_books = || (get(), on("books"));
    assert_eq!(allowed(&plugin, 3, post_orders), 1);
    // GET on `orders` has no own limit: it shares the default bucket with `books`.
    assert_eq!(allowed(&plugin, 1, get_orders), 1);
    assert_eq!(allowed(&plugin, 3, get_books), 1);
    assert_eq!(allowed(&plugin, 1, get_orders), 0);
}

#[test]
fn routes_without_any_limit_are_not_limited() {
    freeze();
    let plugin = plugin(json!({ "routes": { "orders": { "rate": 1 } } }));
    let response = exchange(&plugin, get(), on("books"));
    assert_eq!(
        (response.status, headers(&response)),
        (200, [None, None, None])
    );
    assert_eq!(allowed(&plugin, 10, || (get(), on("books"))), 10);
}

#[test]
fn clients_are_counted_apart_by_ip() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 1, "burst": 2 } }));
    assert_eq!(allowed(&plugin, 5, || (get(), from("203.0.113.7"))), 2);
    assert_eq!(allowed(&plugin, 5, || (get(), from("198.51.100.1"))), 2);
}

#[test]
fn counts_api_keys_and_falls_back_to_the_ip_without_one() {
    freeze();
    let plugin = plugin(json!({ "key": "api-key", "default": { "rate": 1, "burst": 2 } }));
    let with_key = |id: &'static str| move || (get(), from("203.0.113.7").with("api-key.id", id));
    assert_eq!(allowed(&plugin, 5, with_key("k-1")), 2);
    assert_eq!(allowed(&plugin, 5, with_key("k-2")), 2);
    // Anonymous requests from the same address share the address's bucket.
    assert_eq!(allowed(&plugin, 5, || (get(), from("203.0.113.7"))), 2);
}

#[test]
fn skips_requests_without_a_subject_when_asked_to() {
    freeze();
    let plugin = plugin(json!({
        "key": "principal", "when_absent": "skip", "default": { "rate": 1, "burst": 1 },
    }));
    let alice = || (get(), FakeContext::new().with("auth.principal", "alice"));
    assert_eq!(allowed(&plugin, 3, alice), 1);
    let anonymous = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(
        (anonymous.status, headers(&anonymous)),
        (200, [None, None, None])
    );
    assert_eq!(allowed(&plugin, 3, plain), 3);
}

#[test]
fn counts_header_values_apart() {
    freeze();
    let plugin = plugin(json!({
        "key": { "header": "X-Tenant-Id" }, "when_absent": "skip", "default": { "rate": 1 },
    }));
    let tenant = |id: &'static str| move || (get().header("x-tenant-id", id), FakeContext::new());
    assert_eq!(allowed(&plugin, 3, tenant("acme")), 1);
    assert_eq!(allowed(&plugin, 3, tenant("globex")), 1);
    assert_eq!(allowed(&plugin, 3, tenant("")), 3);
}

#[test]
fn a_route_key_gives_each_route_one_bucket_for_all_clients() {
    freeze();
    let plugin = plugin(json!({ "key": "route", "default": { "rate": 1, "burst": 2 } }));
    let orders = |ip: &'static str| move || (get(), on("orders").with("gateway.client-ip", ip));
    assert_eq!(allowed(&plugin, 1, orders("203.0.113.7")), 1);
    assert_eq!(allowed(&plugin, 3, orders("198.51.100.1")), 1);
    assert_eq!(allowed(&plugin, 3, || (get(), on("books"))), 2);
}

#[test]
fn the_headers_describe_the_tightest_of_several_limiters() {
    freeze();
    let per_ip = plugin(json!({ "default": { "rate": 1, "burst": 10 } }));
    let per_route = plugin(json!({ "key": "route", "default": { "rate": 1, "burst": 2 } }));
    let mut recorded = Vec::new();
    for (first, second) in [(&per_ip, &per_route), (&per_route, &per_ip)] {
        let (mut request, mut context) = plain();
        assert!(testing::method_request(first, &mut request, &mut context).is_continue());
        assert!(testing::method_request(second, &mut request, &mut context).is_continue());
        let read = |key| context.get(key).unwrap().to_owned();
        recorded.push((read(rate_limiter::LIMIT), read(rate_limiter::REMAINING)));
    }
    // Whichever ran first, the per-route limit (2 at once, fewer left) is the one shown.
    let expected = [("2", "1"), ("2", "0")].map(|(l, r)| (l.to_owned(), r.to_owned()));
    assert_eq!(recorded, expected);
}

#[test]
fn fails_closed_with_503_when_the_store_is_down() {
    freeze();
    let plugin = plugin(json!({ "default": { "rate": 1 } }));
    testing::set_store_unavailable(true);
    let response = exchange(&plugin, get(), FakeContext::new());
    assert_eq!(
        (response.status, error_type(&response)),
        (503, "SERVICE_UNAVAILABLE".into())
    );
    assert_eq!(headers(&response), [None, None, None]);
    let logged = testing::take_log_lines();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].level, Level::Error);
    assert!(logged[0].message.contains("store unavailable"));
    testing::set_store_unavailable(false);
    assert_eq!(allowed(&plugin, 1, plain), 1);
}
