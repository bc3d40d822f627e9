//! Stages: selection by host and base path, custom domains' base paths, stage variables in
//! upstream URLs and plugin config (mapper templates), stage throttles, and stage canaries.

use http::Method;
use wasmgate_tests::gateway::plugin_path;
use wasmgate_tests::prometheus::{key, scrape};
use wasmgate_tests::upstream::EchoUpstream;
use wasmgate_tests::{TestGateway, http1};

/// Two stages of one route: `prod` on a host, `dev` under `/dev`; the upstream URL and the
/// mapper's variables read stage variables; `shop.example.com` mounts the API under `/store`.
async fn staged_gateway(prod: &EchoUpstream, dev: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[upstreams.app]
url = "${{stage.backend}}/${{stage.label}}"

[plugins.stamp]
path = "{headers}"
[plugins.stamp.config]
response = {{ set = {{ x-stage-label = "${{stage.label}}" }} }}

[chain]
plugins = ["stamp"]

[plugins.map]
path = "{mapper}"
[plugins.map.config]
variables = {{ label = "${{stage.label}}" }}
[plugins.map.config.request]
headers = {{ set = {{ x-label = "{{{{ variables.label }}}}", x-stage = "{{{{ context['gateway.stage'] }}}}" }} }}

[[routes]]
id = "items"
methods = ["GET"]
path = "/items/{{id}}"
plugins = ["map"]
integration = {{ type = "http", upstream = "app" }}

[stages.prod]
hosts = ["api.example.com"]
variables = {{ backend = "{prod}", label = "live" }}

[stages.dev]
base_path = "/dev"
variables = {{ backend = "{dev}", label = "dev" }}

[domains."shop.example.com"]
base_path = "/store"
"#,
        mapper = plugin_path("mapper"),
        headers = plugin_path("headers"),
        prod = prod.url(),
        dev = dev.url(),
    ))
    .await
}

#[tokio::test]
async fn a_stage_is_chosen_by_host_or_base_path_and_serves_with_its_own_variables() {
    let (prod, dev) = (EchoUpstream::start().await, EchoUpstream::start().await);
    let gateway = staged_gateway(&prod, &dev).await;
    let client = http1();
    let get = |path: &'static str, host: Option<&'static str>| {
        let (client, url) = (client.clone(), gateway.url(path));
        async move {
            let headers: Vec<(&str, &str)> = host.map(|h| ("host", h)).into_iter().collect();
            client.send(Method::GET, &url, &headers, "").await
        }
    };

    let live = get("/items/7", Some("API.example.com")).await;
    assert_eq!(live.status, 200);
    let seen = live.json();
    assert_eq!(seen["path"], "/live/items/7", "prod's URL, its base path");
    assert_eq!(seen["headers"]["x-label"][0], "live");
    assert_eq!(seen["headers"]["x-stage"][0], "prod");

    let development = get("/dev/items/7", None).await;
    assert_eq!(development.status, 200);
    let seen = development.json();
    assert_eq!(
        seen["path"], "/dev/items/7",
        "dev's URL and label; `/dev` stripped"
    );
    assert_eq!(seen["headers"]["x-label"][0], "dev");
    assert_eq!(seen["headers"]["x-stage"][0], "dev");

    assert_eq!(
        development.header("x-stage-label"),
        Some("dev"),
        "the global chain"
    );

    // A request a stage takes but no route does gets that stage's global chain.
    for (path, host, label) in [
        ("/dev/nowhere", None, "dev"),
        ("/nowhere", Some("api.example.com"), "live"),
    ] {
        let unrouted = get(path, host).await;
        assert_eq!(unrouted.status, 404);
        assert_eq!(unrouted.header("x-stage-label"), Some(label), "{path}");
    }

    let mounted = get("/store/dev/items/7", Some("shop.example.com")).await;
    assert_eq!(
        mounted.status, 200,
        "the domain's base path, then the stage's"
    );
    assert_eq!(mounted.json()["headers"]["x-stage"][0], "dev");

    for (path, host) in [
        ("/items/7", None),
        ("/dev/items/7", Some("shop.example.com")),
        ("/development/items/7", None),
    ] {
        let refused = get(path, host).await;
        assert_eq!(refused.status, 404, "{path} for {host:?}");
        assert_eq!(refused.json()["type"], "RESOURCE_NOT_FOUND");
    }

    let samples = scrape(&gateway).await;
    for stage in ["prod", "dev"] {
        let series = key(
            "wasmgate_requests_total",
            &[
                ("route", "items"),
                ("method", "GET"),
                ("status", "2xx"),
                ("stage", stage),
            ],
        );
        assert!(samples.get(&series).is_some_and(|n| *n >= 1.0), "{series}");
    }
    let upstream_series = key(
        "wasmgate_upstream_target_requests_total",
        &[
            ("upstream", "app@prod"),
            ("target", &format!("{}/live", prod.url())),
            ("outcome", "answered"),
        ],
    );
    assert_eq!(
        samples.get(&upstream_series),
        Some(&1.0),
        "{upstream_series}"
    );
}

#[tokio::test]
async fn a_stage_throttles_each_route_and_answers_429_with_retry_after() {
    let config = |extra: &str| {
        format!(
            r#"
[[routes]]
id = "limited"
path = "/limited"
integration = {{ type = "mock", status = 200 }}

[[routes]]
id = "tight"
path = "/tight"
integration = {{ type = "mock", status = 200 }}
{extra}
[stages.prod]
base_path = "/prod"
throttle = {{ rate = 1, burst = 5 }}
[stages.prod.route_throttle]
tight = {{ rate = 1, burst = 2 }}

[stages.dev]
base_path = "/dev"
"#
        )
    };
    let gateway = TestGateway::start(&config("")).await;
    let client = http1();
    let statuses = |path: &'static str, n: usize| {
        let (client, url) = (client.clone(), gateway.url(path));
        async move {
            let mut statuses = Vec::with_capacity(n);
            for _ in 0..n {
                statuses.push(client.get(&url).await.status.as_u16());
            }
            statuses
        }
    };
    let passed = |statuses: &[u16]| statuses.iter().filter(|s| **s == 200).count();
    // A bucket refills at 1 per second: within this test's few milliseconds, at most one more.
    let tight = statuses("/prod/tight", 5).await;
    assert!(
        (2..=3).contains(&passed(&tight)),
        "its own limit: {tight:?}"
    );
    let refused = client.get(&gateway.url("/prod/tight")).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["type"], "THROTTLED");
    assert_eq!(refused.header("x-wasmgate-error"), Some("THROTTLED"));
    assert_eq!(refused.header("retry-after"), Some("1"));
    let limited = statuses("/prod/limited", 8).await;
    let emptied = std::time::Instant::now();
    assert!((5..=6).contains(&passed(&limited)), "{limited:?}");
    assert!(statuses("/dev/limited", 20).await.iter().all(|s| *s == 200));

    // A reload that leaves the limit alone keeps the bucket: no fresh burst of 5.
    gateway.rewrite(&config(
        "[[routes]]\nid = \"added\"\npath = \"/added\"\nintegration = { type = \"mock\" }\n",
    ));
    let started = std::time::Instant::now();
    while client.get(&gateway.url("/dev/added")).await.status != 200 {
        assert!(started.elapsed().as_secs() < 10, "the reload never served");
    }
    // A fresh bucket would let 5 through at once; the kept one has refilled 1 a second (on a
    // slow machine, after 4 s or more, the two cannot be told apart).
    let refilled = emptied.elapsed().as_secs() as usize + 1;
    let after_reload = statuses("/prod/limited", 5).await;
    assert!(
        passed(&after_reload) <= refilled,
        "the bucket refilled only as time passed ({refilled} in {:?}): {after_reload:?}",
        emptied.elapsed()
    );
}

#[tokio::test]
async fn a_stage_canary_takes_its_share_with_its_own_variables() {
    let gateway = TestGateway::start(&format!(
        r#"
[plugins.side]
path = "{headers}"
[plugins.side.config]
response = {{ set = {{ "x-side" = "${{stage.side}}" }} }}

[[routes]]
id = "home"
path = "/home"
plugins = ["side"]
integration = {{ type = "mock", status = 200 }}

[stages.prod]
variables = {{ side = "stable" }}
[stages.prod.canary]
percent = 10
header = "x-canary"
variables = {{ side = "canary" }}
"#,
        headers = plugin_path("headers"),
    ))
    .await;
    let client = http1();
    let url = gateway.url("/home");
    let total = 10_000;
    let mut to_canary = 0;
    for _ in 0..total {
        let response = client.get(&url).await;
        match response.header("x-side") {
            Some("canary") => to_canary += 1,
            Some("stable") => {}
            other => panic!("x-side: {other:?}, status {}", response.status),
        }
    }
    // 10 % ± 2 % of the requests.
    assert!((800..=1200).contains(&to_canary), "{to_canary} of {total}");
    let samples = scrape(&gateway).await;
    let counted = |canary: &str| {
        let series = key(
            "wasmgate_stage_canary_requests_total",
            &[("stage", "prod"), ("canary", canary)],
        );
        samples.get(&series).copied().unwrap_or_default()
    };
    assert_eq!(counted("true"), f64::from(to_canary));
    assert_eq!(counted("false"), f64::from(total - to_canary));

    for (value, side) in [("1", "canary"), ("false", "stable")] {
        let response = client
            .send(Method::GET, &url, &[("x-canary", value)], "")
            .await;
        assert_eq!(response.header("x-side"), Some(side), "x-canary: {value}");
    }
}
