//! Stages, stage variables and custom domains: what a valid config builds, and one test per
//! mistake.

use std::path::Path;

use super::super::{Throttle, parse};
use super::traffic_tests::{LISTENER, problems};

/// An upstream that reads a stage variable, a plugin whose config does, and a route to both.
const STAGED: &str = "[upstreams.orders]\nurl = \"${stage.backend}/api\"\n\
    [upstreams.static]\nurl = \"http://10.0.0.9:80\"\n\
    [plugins.tag]\npath = \"tag.wasm\"\n\
    [plugins.tag.config]\nset = { x-stage = \"stage ${stage.label}\" }\nfixed = [\"${stage.label}\", 1]\n\
    [plugins.plain]\npath = \"tag.wasm\"\n\
    [[routes]]\npath = \"/orders/{id}\"\nmethods = [\"GET\"]\nplugins = [\"tag\", \"plain\"]\n\
    [routes.integration]\ntype = \"http\"\nupstream = \"orders\"\n";

#[test]
fn stage_variables_make_one_upstream_and_plugin_per_deployment() {
    let text = format!(
        "{LISTENER}{STAGED}\
         [stages.prod]\nhosts = [\"API.example.com\"]\n\
         variables = {{ backend = \"http://10.0.0.1:8080\", label = \"live\" }}\n\
         throttle = {{ rate = 100, burst = 200 }}\n\
         [stages.prod.route_throttle]\n\"GET /orders/{{id}}\" = {{ rate = 5 }}\n\
         [stages.prod.canary]\npercent = 10\nvariables = {{ backend = \"http://10.0.0.2:8080\" }}\n\
         [stages.dev]\nbase_path = \"/dev/\"\n\
         variables = {{ backend = \"http://127.0.0.1:9000\", label = \"dev\" }}\n\
         [domains.\"Shop.example.com\"]\nbase_path = \"/api\"\n"
    );
    let config = parse(Path::new("gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let urls: Vec<_> = ["orders@prod", "orders@prod/canary", "orders@dev"]
        .iter()
        .map(|name| config.upstreams[*name].targets[0].url.to_string())
        .collect();
    assert_eq!(
        urls,
        [
            "http://10.0.0.1:8080/api",
            "http://10.0.0.2:8080/api",
            "http://127.0.0.1:9000/api"
        ]
    );
    let mut upstream_names: Vec<_> = config.upstreams.keys().map(String::as_str).collect();
    upstream_names.sort();
    assert_eq!(
        upstream_names,
        ["orders@dev", "orders@prod", "orders@prod/canary", "static"],
        "the staged upstream's own name is not served"
    );
    let deployments = config.deployments();
    let canary = deployments.iter().find(|d| d.canary).unwrap();
    assert_eq!(
        config.plugin_in("tag", canary),
        "tag@prod",
        "a canary whose variables leave a plugin as its stage has it shares the stage's"
    );
    assert!(!config.plugins.contains_key("tag@prod/canary"));
    assert_eq!(config.upstream_in("orders", canary), "orders@prod/canary");
    assert_eq!(config.plugins["tag@dev"].config["fixed"][0], "dev");
    assert!(config.plugins.contains_key("plain") && !config.plugins.contains_key("tag"));
    let names: Vec<_> = config.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["dev", "prod"]);
    let (dev, prod) = (&config.stages[0], &config.stages[1]);
    assert_eq!(dev.base_path.as_deref(), Some("/dev"));
    assert_eq!(prod.hosts, ["api.example.com"]);
    let limit = |rate_per_second, burst| {
        Some(Throttle {
            rate_per_second,
            burst,
        })
    };
    assert_eq!(prod.throttle_of("GET /orders/{id}"), limit(5, 5));
    assert_eq!(prod.throttle_of("another"), limit(100, 200));
    assert_eq!(dev.throttle_of("GET /orders/{id}"), None);
    assert_eq!(prod.canary.as_ref().unwrap().split.basis_points, 1000);
    let deployments: Vec<_> = config
        .deployments()
        .into_iter()
        .map(|d| d.name.unwrap())
        .collect();
    assert_eq!(deployments, ["dev", "prod", "prod/canary"]);
    assert_eq!(config.domains[0].host, "shop.example.com");
    assert_eq!(config.domains[0].base_path, "/api");
}

#[test]
fn an_unknown_stage_variable_is_reported_where_it_is_read() {
    let text = format!(
        "{STAGED}[stages.prod]\nvariables = {{ backend = \"http://10.0.0.1:8080\" }}\n\
         [stages.dev]\nbase_path = \"/dev\"\nvariables = {{ label = \"dev\" }}\n"
    );
    assert_eq!(
        problems(&text),
        [
            (
                "upstreams.orders.url".to_owned(),
                "stage `dev` has no variable `backend`".to_owned()
            ),
            (
                "plugins.tag.config.fixed[0]".to_owned(),
                "plugin `tag`: stage `prod` has no variable `label`".to_owned()
            ),
        ]
    );
}

#[test]
fn a_stage_variable_without_stages_is_an_error() {
    let found = problems(STAGED);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "upstreams.orders.url");
    assert!(found[0].1.contains("no stages are declared"), "{found:?}");
}

#[test]
fn a_bad_url_made_by_a_variable_is_reported_once_per_value() {
    let text = format!(
        "{STAGED}[stages.prod]\nvariables = {{ backend = \"ftp://x\", label = \"a\" }}\n\
         [stages.dev]\nbase_path = \"/dev\"\nvariables = {{ backend = \"ftp://x\", label = \"b\" }}\n"
    );
    assert_eq!(
        problems(&text),
        [(
            "upstreams.orders.url".to_owned(),
            "unsupported upstream URL scheme `ftp`".to_owned()
        )]
    );
}

#[test]
fn two_stages_cannot_take_the_same_requests() {
    let text = "[stages.a]\nhosts = [\"api.example.com\"]\n\
                [stages.b]\nhosts = [\"api.example.com\", \"b.example.com\"]\n\
                [stages.c]\n[stages.d]\n";
    assert_eq!(
        problems(text),
        [
            (
                "stages.b".to_owned(),
                "stages `a` and `b` both take requests for `api.example.com`".to_owned()
            ),
            (
                "stages.d".to_owned(),
                "stages `c` and `d` both take every request".to_owned()
            ),
        ]
    );
}

#[test]
fn bad_stage_keys_are_reported_with_their_key() {
    let text = "[stages.Prod]\nbase_path = \"prod\"\nhosts = [\"bad host\"]\n\
                variables = { \"a-b\" = \"x\", c = \"${stage.a}\" }\n\
                throttle = { rate = 0 }\n\
                [stages.Prod.route_throttle]\n\"GET /nope\" = { rate = 1 }\n\
                [domains.\"example.com\"]\nbase_path = \"/a/../b\"\n";
    let keys: Vec<_> = problems(text).into_iter().map(|(key, _)| key).collect();
    assert_eq!(
        keys,
        [
            "stages.Prod",
            "stages.Prod.base_path",
            "stages.Prod.hosts[0]",
            "stages.Prod.variables.a-b",
            "stages.Prod.variables.c",
            "stages.Prod.throttle.rate",
            "stages.Prod.route_throttle.\"GET /nope\"",
            "domains.\"example.com\".base_path",
        ]
    );
}

#[test]
fn a_stage_canary_can_run_another_build_of_a_plugin() {
    let text = format!(
        "{LISTENER}[plugins.auth]\npath = \"plugins/${{stage.auth}}.wasm\"\n\
         [[routes]]\npath = \"/x\"\nplugins = [\"auth\"]\nintegration = {{ type = \"mock\" }}\n\
         [stages.prod]\nvariables = {{ auth = \"auth-1.4\" }}\n\
         [stages.prod.canary]\npercent = 5\nvariables = {{ auth = \"/opt/auth-1.5\" }}\n"
    );
    let config = parse(Path::new("/etc/gw/gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.plugins["auth@prod"].path,
        Path::new("/etc/gw/plugins/auth-1.4.wasm")
    );
    assert_eq!(
        config.plugins["auth@prod/canary"].path,
        Path::new("/etc/gw/plugins//opt/auth-1.5.wasm"),
        "a variable inside a relative path stays inside it"
    );
    assert!(
        config
            .watched_files
            .contains(&"/etc/gw/plugins/auth-1.4.wasm".into())
    );
    let missing = problems(
        "[plugins.auth]\npath = \"${stage.auth}\"\n\
         [[routes]]\npath = \"/x\"\nplugins = [\"auth\"]\nintegration = { type = \"mock\" }\n\
         [stages.prod]\n",
    );
    assert_eq!(
        missing,
        [(
            "plugins.auth.path".to_owned(),
            "plugin `auth`: stage `prod` has no variable `auth`".to_owned()
        )]
    );
}

#[test]
fn an_upstream_name_cannot_pass_for_a_staged_instance() {
    let found = problems("[upstreams.\"orders@prod\"]\nurl = \"http://10.0.0.1\"\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "upstreams.\"orders@prod\"");
    assert_eq!(found[0].1, "invalid upstream name `orders@prod`");
}

#[test]
fn a_canary_shares_the_upstreams_its_variables_leave_unchanged() {
    let text = format!(
        "{LISTENER}[upstreams.orders]\nurl = \"${{stage.backend}}\"\nmax_connections = 8\n\
         [[routes]]\npath = \"/x\"\nintegration = {{ type = \"http\", upstream = \"orders\" }}\n\
         [stages.prod]\nvariables = {{ backend = \"http://10.0.0.1\", build = \"a\" }}\n\
         [stages.prod.canary]\npercent = 5\nvariables = {{ build = \"b\" }}\n"
    );
    let config = parse(Path::new("gw.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let deployments = config.deployments();
    let names: Vec<_> = deployments
        .iter()
        .map(|d| config.upstream_in("orders", d).into_owned())
        .collect();
    assert_eq!(names, ["orders@prod", "orders@prod"], "one pool, one limit");
    assert!(!config.upstreams.contains_key("orders@prod/canary"));
}
