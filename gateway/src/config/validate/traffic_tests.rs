//! Upstream pools, balancing, retries, health checks and ejection: what a valid config
//! builds, and one test per mistake.

use std::path::Path;
use std::time::Duration;

use http::StatusCode;

use super::super::{
    Balance, ConfigError, ConfigErrors, ConnectionLimits, HashOn, Integration, parse,
};

pub(super) const LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";

/// Every error for `LISTENER` + `text`, as `(key, message)`.
pub(super) fn problems(text: &str) -> Vec<(String, String)> {
    match parse(Path::new("gw.toml"), &format!("{LISTENER}{text}")) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(ConfigErrors(errors)) => errors
            .into_iter()
            .map(|e: ConfigError| (e.key.unwrap_or_default(), e.message))
            .collect(),
    }
}

#[test]
fn builds_a_pool_with_its_policies() {
    let text = format!(
        "{LISTENER}[upstreams.orders]\n\
         targets = [{{ url = \"http://10.0.0.1:9000\", weight = 3 }}, {{ url = \"http://10.0.0.2:9000/base/\" }}]\n\
         balance = \"hash\"\nhash_on = \"cookie:session\"\nmax_requests = 100\n\
         max_connections = 8\nmax_pending = 0\n\
         retry_budget = {{ percent = 10 }}\n\
         [upstreams.orders.retries]\nattempts = 3\non = [\"connect-failure\", \"reset\", \"timeout\", \"503\"]\n\
         per_try_timeout_ms = 500\nbackoff = {{ base_ms = 10, max_ms = 40 }}\n\
         [upstreams.orders.health_check]\npath = \"/healthz\"\ninterval_ms = 2000\n\
         [upstreams.orders.outlier]\nconsecutive_failures = 2\n\
         [[routes]]\nmethods = [\"POST\"]\npath = \"/orders\"\n\
         [routes.integration]\ntype = \"http\"\nupstream = \"orders\"\nretry_non_idempotent = true\n\
         retries = {{ attempts = 2, on = [\"502\"] }}\n"
    );
    let config = parse(Path::new("gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let orders = &config.upstreams["orders"];
    let targets: Vec<_> = orders
        .targets
        .iter()
        .map(|t| (t.url.to_string(), t.weight))
        .collect();
    assert_eq!(
        targets,
        [
            ("http://10.0.0.1:9000/".to_owned(), 3),
            ("http://10.0.0.2:9000/base".to_owned(), 1)
        ]
    );
    assert_eq!(
        orders.balance,
        Balance::Hash(HashOn::Cookie("session".into()))
    );
    assert_eq!(orders.max_requests, Some(100));
    assert_eq!(
        orders.max_connections,
        Some(ConnectionLimits {
            connections: 8,
            pending: 0
        })
    );
    assert_eq!(
        (
            orders.retry_budget.percent,
            orders.retry_budget.min_per_second
        ),
        (10, 3)
    );
    let retries = orders.retries.as_ref().unwrap();
    assert_eq!(retries.attempts, 3);
    assert!(retries.on.connect_failure && retries.on.reset && retries.on.timeout);
    assert!(!retries.on.refused_stream);
    assert_eq!(retries.on.statuses, [StatusCode::SERVICE_UNAVAILABLE]);
    assert_eq!(retries.per_try_timeout, Some(Duration::from_millis(500)));
    assert_eq!(
        (retries.backoff_base, retries.backoff_max),
        (Duration::from_millis(10), Duration::from_millis(40))
    );
    let check = orders.health_check.as_ref().unwrap();
    assert_eq!(check.path, "/healthz");
    assert_eq!(
        (
            check.interval,
            check.timeout,
            check.healthy_threshold,
            check.unhealthy_threshold
        ),
        (Duration::from_secs(2), Duration::from_secs(1), 2, 3)
    );
    let outlier = orders.outlier.unwrap();
    assert_eq!(outlier.consecutive_failures, 2);
    assert_eq!(outlier.base_ejection, Duration::from_secs(30));
    let Integration::Http {
        retries,
        retry_non_idempotent,
        ..
    } = &config.routes[0].integration
    else {
        panic!("an http route");
    };
    assert!(*retry_non_idempotent);
    assert_eq!(
        retries.as_ref().unwrap().on.statuses,
        [StatusCode::BAD_GATEWAY]
    );
}

#[test]
fn a_single_url_is_a_pool_of_one_with_default_policies() {
    let text = format!("{LISTENER}[upstreams.o]\nurl = \"http://127.0.0.1:9000\"\n");
    let config = parse(Path::new("gw.toml"), &text).unwrap();
    let o = &config.upstreams["o"];
    assert_eq!(o.targets.len(), 1);
    assert_eq!(o.balance, Balance::RoundRobin);
    assert!(o.retries.is_none() && o.health_check.is_none() && o.outlier.is_none());
    assert_eq!(o.max_requests, None);
    assert_eq!(o.max_connections, None);
}

#[test]
fn an_upstream_needs_exactly_one_of_url_and_targets() {
    let both =
        problems("[upstreams.o]\nurl = \"http://a:1\"\ntargets = [{ url = \"http://b:1\" }]\n");
    assert_eq!(
        both,
        [(
            "upstreams.o.url".into(),
            "an upstream has a `url` or `targets`, not both".into()
        )]
    );
    let neither = problems("[upstreams.o]\ntimeout_ms = 5\n");
    assert_eq!(
        neither,
        [(
            "upstreams.o".into(),
            "an upstream needs a `url` or `targets`".into()
        )]
    );
    let empty = problems("[upstreams.o]\ntargets = []\n");
    assert_eq!(
        empty,
        [("upstreams.o.targets".into(), "`targets` is empty".into())]
    );
}

#[test]
fn targets_share_a_scheme_and_some_weight() {
    let mixed = problems(
        "[upstreams.o]\ntargets = [{ url = \"http://a:1\" }, { url = \"https://b:1\" }]\n",
    );
    assert_eq!(mixed[0].0, "upstreams.o.targets[1].url");
    assert!(
        mixed[0].1.contains("differs from the first target's"),
        "{mixed:?}"
    );
    let zero = problems(
        "[upstreams.o]\ntargets = [{ url = \"http://a:1\", weight = 0 }, { url = \"http://b:1\", weight = 0 }]\n",
    );
    assert_eq!(zero[0].0, "upstreams.o.targets");
    assert!(zero[0].1.contains("weight = 0"), "{zero:?}");
    let heavy = problems("[upstreams.o]\ntargets = [{ url = \"http://a:1\", weight = 1001 }]\n");
    assert_eq!(heavy[0].0, "upstreams.o.targets[0].weight");
    let bad_url = problems("[upstreams.o]\ntargets = [{ url = \"ftp://a:1\" }]\n");
    assert_eq!(bad_url[0].0, "upstreams.o.targets[0].url");
}

#[test]
fn hashing_needs_a_valid_key_and_only_hashing_takes_one() {
    let missing = problems("[upstreams.o]\nurl = \"http://a:1\"\nbalance = \"hash\"\n");
    assert_eq!(
        missing,
        [(
            "upstreams.o.hash_on".into(),
            "`balance = \"hash\"` needs `hash_on`".into()
        )]
    );
    let bad = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\nbalance = \"hash\"\nhash_on = \"query:x\"\n",
    );
    assert_eq!(
        bad,
        [(
            "upstreams.o.hash_on".into(),
            "invalid `hash_on = \"query:x\"`".into()
        )]
    );
    let stray = problems("[upstreams.o]\nurl = \"http://a:1\"\nhash_on = \"client-ip\"\n");
    assert_eq!(stray[0].0, "upstreams.o.hash_on");
    let unknown = problems("[upstreams.o]\nurl = \"http://a:1\"\nbalance = \"random\"\n");
    assert_eq!(unknown[0].0, "upstreams.o.balance");
}

#[test]
fn retry_policies_name_known_failures_and_coherent_timings() {
    let unknown = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\nretries = { on = [\"reset\", \"404\", \"gateway-error\"] }\n",
    );
    let keys: Vec<&str> = unknown.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["upstreams.o.retries.on[1]", "upstreams.o.retries.on[2]"]
    );
    assert_eq!(unknown[0].1, "cannot retry on `404`");
    let timeout =
        problems("[upstreams.o]\nurl = \"http://a:1\"\nretries = { on = [\"timeout\"] }\n");
    assert_eq!(
        timeout[0],
        (
            "upstreams.o.retries.on".into(),
            "retrying on `timeout` needs `per_try_timeout_ms`".into()
        )
    );
    let backoff = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\nretries = { backoff = { base_ms = 100, max_ms = 10 } }\n",
    );
    assert_eq!(backoff[0].0, "upstreams.o.retries.backoff.max_ms");
    let per_try = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\ntimeout_ms = 500\nretries = { per_try_timeout_ms = 500 }\n",
    );
    assert_eq!(per_try[0].0, "upstreams.o.retries.per_try_timeout_ms");
    let attempts = problems("[upstreams.o]\nurl = \"http://a:1\"\nretries = { attempts = 0 }\n");
    assert_eq!(attempts[0].0, "upstreams.o.retries.attempts");
    let budget =
        problems("[upstreams.o]\nurl = \"http://a:1\"\nretry_budget = { percent = 101 }\n");
    assert_eq!(budget[0].0, "upstreams.o.retry_budget.percent");
}

#[test]
fn a_route_retrying_a_non_idempotent_method_must_say_so() {
    let route = |methods: &str, extra: &str| {
        format!(
            "[upstreams.o]\nurl = \"http://a:1\"\n[[routes]]\n{methods}path = \"/x\"\n\
             [routes.integration]\ntype = \"http\"\nupstream = \"o\"\nretries = {{ attempts = 2 }}\n{extra}"
        )
    };
    let post = problems(&route("methods = [\"GET\", \"POST\"]\n", ""));
    assert_eq!(post[0].0, "routes[0].integration.retries");
    assert_eq!(
        post[0].1,
        "`retries` on a route that takes POST, which is not idempotent"
    );
    let any = problems(&route("", ""));
    assert!(any[0].1.contains("any method"), "{any:?}");
    for ok in [
        route("methods = [\"GET\", \"PUT\"]\n", ""),
        route("methods = [\"POST\"]\n", "retry_non_idempotent = true\n"),
    ] {
        parse(Path::new("gw.toml"), &format!("{LISTENER}{ok}")).unwrap_or_else(|e| panic!("{e}"));
    }
    let mock = problems(
        "[[routes]]\npath = \"/m\"\n[routes.integration]\ntype = \"mock\"\nretry_non_idempotent = true\n",
    );
    assert_eq!(mock[0].0, "routes[0].integration.retry_non_idempotent");
}

#[test]
fn health_checks_and_ejection_are_checked() {
    let path =
        problems("[upstreams.o]\nurl = \"http://a:1\"\nhealth_check = { path = \"healthz\" }\n");
    assert_eq!(path[0].0, "upstreams.o.health_check.path");
    let slow = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\nhealth_check = { path = \"/h\", interval_ms = 1000, timeout_ms = 2000 }\n",
    );
    assert_eq!(slow[0].0, "upstreams.o.health_check.timeout_ms");
    let outlier = problems(
        "[upstreams.o]\nurl = \"http://a:1\"\noutlier = { base_ejection_ms = 10000, max_ejection_ms = 10 }\n",
    );
    assert_eq!(outlier[0].0, "upstreams.o.outlier.max_ejection_ms");
}

#[test]
fn http2_protocols_match_the_scheme() {
    let h2 = problems("[upstreams.o]\nurl = \"http://a:1\"\nprotocol = \"h2\"\n");
    assert_eq!(
        h2,
        [(
            "upstreams.o.protocol".into(),
            "`protocol = \"h2\"` on an `http` upstream".into()
        )]
    );
    let h2c = problems("[upstreams.o]\nurl = \"https://a:1\"\nprotocol = \"h2c\"\n");
    assert_eq!(h2c[0].0, "upstreams.o.protocol");
    let unknown = problems("[upstreams.o]\nurl = \"http://a:1\"\nprotocol = \"http3\"\n");
    assert_eq!(unknown[0].0, "upstreams.o.protocol");
    let text = format!("{LISTENER}[upstreams.o]\nurl = \"http://a:1\"\nprotocol = \"h2c\"\n");
    let config = parse(Path::new("gw.toml"), &text).unwrap();
    assert_eq!(
        config.upstreams["o"].protocol,
        super::super::UpstreamProtocol::H2c
    );
}

#[test]
fn a_canary_names_another_known_upstream_and_a_valid_share() {
    let route = |canary: &str| {
        format!(
            "[upstreams.a]\nurl = \"http://a:1\"\n[upstreams.b]\nurl = \"http://b:1\"\n\
             [[routes]]\npath = \"/x\"\n[routes.integration]\ntype = \"http\"\nupstream = \"a\"\n\
             canary = {canary}\n"
        )
    };
    let text = format!(
        "{LISTENER}{}",
        route(
            "{ upstream = \"b\", percent = 12.5, header = \"x-canary\", sticky = \"client-ip\" }"
        )
    );
    let config = parse(Path::new("gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let Integration::Http { canary, .. } = &config.routes[0].integration else {
        panic!("an http route");
    };
    let canary = canary.as_ref().unwrap();
    assert_eq!(
        (canary.upstream.as_str(), canary.split.basis_points),
        ("b", 1250)
    );
    assert_eq!(canary.split.sticky, Some(HashOn::ClientIp));
    let unknown = problems(&route("{ upstream = \"c\" }"));
    assert_eq!(
        unknown[0],
        (
            "routes[0].integration.canary.upstream".into(),
            "unknown canary upstream `c`".into()
        )
    );
    let itself = problems(&route("{ upstream = \"a\" }"));
    assert_eq!(itself[0].0, "routes[0].integration.canary.upstream");
    let share = problems(&route("{ upstream = \"b\", percent = 101 }"));
    assert_eq!(share[0].0, "routes[0].integration.canary.percent");
    let sticky = problems(&route("{ upstream = \"b\", sticky = \"random\" }"));
    assert_eq!(sticky[0].0, "routes[0].integration.canary.sticky");
}

#[test]
fn connection_limits_default_their_queue_and_need_each_other() {
    let pending_default =
        format!("{LISTENER}[upstreams.o]\nurl = \"http://127.0.0.1:9\"\nmax_connections = 4\n");
    let config = parse(Path::new("gw.toml"), &pending_default).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.upstreams["o"].max_connections,
        Some(ConnectionLimits {
            connections: 4,
            pending: 1024
        })
    );
    let alone = problems("[upstreams.o]\nurl = \"http://127.0.0.1:9\"\nmax_pending = 4\n");
    assert_eq!(alone.len(), 1, "{alone:?}");
    assert_eq!(alone[0].0, "upstreams.o.max_pending");
    assert!(
        alone[0].1.contains("without `max_connections`"),
        "{alone:?}"
    );
    let zero = problems("[upstreams.o]\nurl = \"http://127.0.0.1:9\"\nmax_connections = 0\n");
    assert_eq!(zero[0].0, "upstreams.o.max_connections");
}

#[test]
fn dns_discovery_needs_a_host_name_to_resolve() {
    let text = format!(
        "{LISTENER}[upstreams.named]\n\
         targets = [{{ url = \"http://orders.internal:8080\" }}, {{ url = \"http://10.0.0.9\" }}]\n\
         dns_refresh_ms = 2500\n"
    );
    let config = parse(Path::new("gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.upstreams["named"].dns_refresh,
        Some(Duration::from_millis(2500))
    );
    assert_eq!(
        problems("[upstreams.literal]\nurl = \"http://[::1]:8080\"\ndns_refresh_ms = 1000\n"),
        [(
            "upstreams.literal.dns_refresh_ms".to_owned(),
            "`dns_refresh_ms` on an upstream whose targets are all IP addresses".to_owned()
        )]
    );
    assert_eq!(
        problems("[upstreams.fast]\nurl = \"http://a.internal\"\ndns_refresh_ms = 10\n")[0].0,
        "upstreams.fast.dns_refresh_ms"
    );
}
