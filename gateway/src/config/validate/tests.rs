//! One test per kind of validation error: each says what, where and how to fix.

use std::path::Path;

use super::super::{ConfigError, ConfigErrors, parse};

const LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(Path::new("gw.toml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => errors.0,
    }
}

/// The only error for `LISTENER` + `text`.
fn error(text: &str) -> ConfigError {
    let mut errors = errors(&format!("{LISTENER}{text}"));
    assert_eq!(errors.len(), 1, "{}", ConfigErrors(errors.clone()));
    errors.remove(0)
}

#[test]
fn rejects_a_config_without_listeners() {
    let e = errors("");
    assert_eq!(
        (e[0].message.as_str(), e[0].line, e[0].key.as_deref()),
        ("no listeners", None, Some("listeners"))
    );
}

#[test]
fn rejects_duplicate_listeners_except_on_port_zero() {
    let text = "[[listeners]]\nname = \"a\"\naddress = \"127.0.0.1:80\"\n[[listeners]]\nname = \"a\"\naddress = \"127.0.0.1:80\"\n";
    let messages: Vec<_> = errors(text).into_iter().map(|e| e.message).collect();
    assert_eq!(
        messages,
        [
            "duplicate listener name `a`",
            "listener address `127.0.0.1:80` is used twice"
        ]
    );
    assert!(
        parse(
            Path::new("x"),
            &"[[listeners]]\naddress = \"127.0.0.1:0\"\n".repeat(2)
        )
        .is_ok()
    );
}

#[test]
fn rejects_bad_upstream_urls() {
    let url = |u: &str| error(&format!("[upstreams.o]\nurl = \"{u}\"\n")).message;
    assert_eq!(url("ftp://o"), "unsupported upstream URL scheme `ftp`");
    assert_eq!(url("o:80"), "upstream URL `o:80` has no scheme");
    assert_eq!(
        url("http://o/?a=1"),
        "upstream URLs cannot have a query or a fragment"
    );
    assert_eq!(
        url("http://u:p@o/"),
        "credentials in upstream URLs are not supported"
    );
    assert_eq!(
        url("http://o:99999"),
        "invalid port in upstream URL `http://o:99999`"
    );
    assert!(url("http://o o").starts_with("invalid upstream URL"));
}

#[test]
fn rejects_unknown_references_with_the_defined_names() {
    let e = error(
        "[upstreams.a]\nurl = \"http://a\"\n[[routes]]\npath = \"/\"\nintegration = { type = \"http\", upstream = \"b\" }\n",
    );
    assert_eq!(
        (e.message.as_str(), e.help.as_deref()),
        ("unknown upstream `b`", Some("defined upstreams: `a`"))
    );
    assert_eq!(e.key.as_deref(), Some("routes[0].integration.upstream"));
    let e = error(
        "[plugins.a]\npath = \"a\"\n[plugins.b]\npath = \"b\"\n[chain]\nplugins = [\"a\", \"c\"]\n",
    );
    assert_eq!(
        (e.message.as_str(), e.help.as_deref()),
        ("unknown plugin `c`", Some("defined plugins: `a`, `b`"))
    );
    assert_eq!(
        (e.key.as_deref(), e.line, e.column),
        (Some("chain.plugins[1]"), Some(8), Some(17))
    );
    let e = error("[[routes]]\npath = \"/\"\nintegration = { type = \"http\" }\n");
    assert_eq!(e.message, "an `http` integration needs an `upstream`");
}

#[test]
fn rejects_a_plugin_twice_in_a_chain() {
    let plugins = "[plugins.a]\npath = \"a\"\n";
    let e = error(&format!("{plugins}[chain]\nplugins = [\"a\", \"a\"]\n"));
    assert_eq!(e.message, "plugin `a` appears twice in the chain");
    let e = error(&format!(
        "{plugins}[chain]\nplugins = [\"a\"]\n[[routes]]\npath = \"/\"\nplugins = [\"a\"]\nintegration = {{ type = \"mock\" }}\n"
    ));
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        (
            "plugin `a` is already in the global chain",
            Some("routes[0].plugins[0]")
        )
    );
}

#[test]
fn rejects_limits_out_of_range() {
    let e = error("[engine]\nmax_instances = 0\n");
    assert_eq!(
        (e.message.as_str(), e.help.as_deref()),
        (
            "`max_instances = 0` is out of range",
            Some("use a value from 1 to 10000")
        )
    );
    let e = error("[plugins.a]\npath = \"a\"\nmax_instances = 513\n");
    assert_eq!(
        e.message,
        "`max_instances = 513` is above the engine's ceiling of 512"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("lower `max_instances`, or raise `engine.max_instances`")
    );
    let e = error("[reload]\ndebounce_ms = 5\n");
    assert_eq!(
        (e.message.as_str(), e.key.as_deref(), e.help.as_deref()),
        (
            "`debounce_ms = 5` is out of range",
            Some("reload.debounce_ms"),
            Some("use a value from 10 to 60000")
        )
    );
    assert_eq!(
        error("[reload]\ndebounce_ms = 60001\n").key.as_deref(),
        Some("reload.debounce_ms")
    );
    let e = error("[plugins.a]\npath = \"a\"\ndeadline_ms = 60001\n");
    assert_eq!(e.key.as_deref(), Some("plugins.a.deadline_ms"));
    assert!(
        error("[gateway]\nmax_body_bytes = -1\n")
            .message
            .contains("expected a non-negative integer")
    );
}

#[test]
fn rejects_overlapping_routes() {
    let route = |methods: &str, path: &str, version: &str| {
        format!(
            "[[routes]]\n{methods}path = \"{path}\"\n{version}integration = {{ type = \"mock\" }}\n"
        )
    };
    let get = route("methods = [\"GET\", \"PUT\"]\n", "/a/{id}", "");
    let e = error(&format!(
        "{get}{}",
        route("methods = [\"put\"]\n", "/a/{id}", "")
    ));
    assert_eq!(
        e.message,
        "duplicate route: `PUT /a/{id}` is already routed by routes[0] (`GET,PUT /a/{id}`)"
    );
    assert_eq!((e.line, e.key.as_deref()), (Some(9), Some("routes[1]")));
    let e = error(&format!("{get}{}", route("", "/a/{id}", "")));
    assert!(
        e.message.starts_with("duplicate route: `ANY /a/{id}`"),
        "{e}"
    );
    // Other methods, another version, or another template do not overlap.
    parse(
        Path::new("x"),
        &format!(
            "{LISTENER}{get}{}",
            route("methods = [\"POST\"]\n", "/a/{id}", "")
        ),
    )
    .unwrap();
    parse(
        Path::new("x"),
        &format!(
            "{LISTENER}{get}{}",
            route("", "/a/{id}", "version = \"v2\"\n")
        ),
    )
    .unwrap();
    parse(
        Path::new("x"),
        &format!("{LISTENER}{get}{}", route("", "/a/{id}/b", "")),
    )
    .unwrap();
    let e = error(&format!("{get}{}", route("", "/a/{name}", "")));
    assert_eq!(
        e.message,
        "route path `/a/{name}` conflicts with `/a/{id}` (routes[0])"
    );
}

#[test]
fn routes_on_other_hosts_do_not_overlap_and_bad_hosts_are_named() {
    let route = |host: &str| {
        format!(
            "[[routes]]\n{host}methods = [\"GET\"]\npath = \"/a\"\n\
             integration = {{ type = \"mock\" }}\n"
        )
    };
    let config = parse(
        Path::new("x"),
        &format!(
            "{LISTENER}{}{}{}",
            route(""),
            route("host = \"API.example.com.\"\n"),
            route("host = \"*.example.com\"\n")
        ),
    )
    .unwrap();
    let ids: Vec<(&str, Option<&str>)> = config
        .routes
        .iter()
        .map(|r| (r.id.as_str(), r.host.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            ("GET /a", None),
            ("GET api.example.com/a", Some("api.example.com")),
            ("GET *.example.com/a", Some("*.example.com")),
        ]
    );
    let twice = route("host = \"api.example.com\"\n");
    let e = error(&format!("{twice}{twice}"));
    assert_eq!(
        e.message,
        "duplicate route: `GET api.example.com/a` is already routed by routes[0] \
         (`GET api.example.com/a`)"
    );
    for bad in [
        "https://api.example.com",
        "api.example.com:8443",
        "a.*.com",
        "*",
        "a..b",
        "",
    ] {
        let e = error(&route(&format!("host = \"{bad}\"\n")));
        assert_eq!(
            (e.message.as_str(), e.key.as_deref()),
            (
                format!("invalid host `{bad}`").as_str(),
                Some("routes[0].host")
            ),
            "{bad}"
        );
    }
}

#[test]
fn rejects_duplicate_route_ids() {
    let route = |id: &str, path: &str| {
        format!(
            "[[routes]]\nid = \"{id}\"\npath = \"{path}\"\nintegration = {{ type = \"mock\" }}\n"
        )
    };
    let e = error(&format!("{}{}", route("x", "/a"), route("x", "/b")));
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        ("duplicate route id `x`", Some("routes[1].id"))
    );
}

#[test]
fn rejects_bad_methods_paths_and_versions() {
    let route = |extra: &str| {
        format!("[[routes]]\npath = \"/a\"\n{extra}integration = {{ type = \"mock\" }}\n")
    };
    let e = error(&route("methods = [\"GTE\"]\n"));
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        ("unknown HTTP method `GTE`", Some("routes[0].methods[0]"))
    );
    assert_eq!(
        error(&route("methods = [\"ANY\"]\n")).message,
        "`ANY` is not a method"
    );
    assert_eq!(
        error(&route("methods = [\"GET\", \"get\"]\n")).message,
        "method `GET` is listed twice"
    );
    assert_eq!(
        error(&route("version = \"v 2\"\n")).message,
        "invalid version `v 2`"
    );
    let e = error("[[routes]]\npath = \"/a/{*rest}/b\"\nintegration = { type = \"mock\" }\n");
    assert_eq!(
        (e.key.as_deref(), e.line, e.column),
        (Some("routes[0].path"), Some(4), Some(8))
    );
}

#[test]
fn rejects_bad_mock_responses() {
    let mock = |extra: &str| {
        format!("[[routes]]\npath = \"/a\"\n[routes.integration]\ntype = \"mock\"\n{extra}")
    };
    assert_eq!(
        error(&mock("status = 600\n")).message,
        "`status = 600` is not an HTTP status code"
    );
    let e = error(&mock("headers = { \"a b\" = \"x\" }\n"));
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        (
            "invalid header name `a b`",
            Some("routes[0].integration.headers.\"a b\"")
        )
    );
    assert_eq!(
        error(&mock("headers = { a = \"x\\ny\" }\n")).message,
        "invalid value for header `a`"
    );
    let e = error(&mock("upstream = \"a\"\n"));
    assert_eq!(
        (e.message.as_str(), e.help.as_deref()),
        (
            "`upstream` does not apply to `type = \"mock\"`",
            Some("remove it, or set `type = \"http\"`")
        )
    );
}

#[test]
fn rejects_bad_deprecations() {
    let route = |d: &str| {
        format!(
            "[[routes]]\npath = \"/a\"\nintegration = {{ type = \"mock\" }}\ndeprecation = {{ {d} }}\n"
        )
    };
    let e = error(&route(
        "since = 2026-01-01T00:00:00Z, sunset = \"2025-01-01T00:00:00Z\"",
    ));
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        (
            "`sunset` is before `since`",
            Some("routes[0].deprecation.sunset")
        )
    );
    assert!(
        error(&route("since = 2025-01-01"))
            .message
            .contains("needs a date, a time and a UTC offset")
    );
    assert_eq!(
        error(&route("link = \"/migrate\"")).message,
        "invalid deprecation link `/migrate`"
    );
}

#[test]
fn rejects_an_unused_default_version() {
    let e = error("[versioning]\ndefault_version = \"v1\"\n");
    assert_eq!(
        e.message,
        "default version `v1` is not the version of any route"
    );
    assert_eq!(e.key.as_deref(), Some("versioning.default_version"));
}

#[test]
fn rejects_bad_names() {
    assert_eq!(
        error("[plugins.Auth]\npath = \"a\"\n").message,
        "invalid plugin name `Auth`"
    );
    assert_eq!(
        error("[gateway]\nrequest_id_header = \"x id\"\n").message,
        "invalid header name `x id`"
    );
    assert_eq!(
        error("[versioning]\nquery_param = \"a&b\"\n").message,
        "invalid query parameter name `a&b`"
    );
    assert_eq!(error("[plugins.a]\npath = \"\"\n").message, "empty path");
}

#[test]
fn rejects_plugin_config_that_json_cannot_carry() {
    let e = error("[plugins.a]\npath = \"a\"\nconfig = { x = [nan] }\n");
    assert_eq!(e.key.as_deref(), Some("plugins.a.config.x[0]"));
}

/// A directory with a dev CA, a server certificate and a client certificate.
fn certificate_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmgate-tls-{test}-{}", std::process::id()));
    let names = ["localhost".to_owned()];
    crate::tls::write_dev_certificates(&dir, &names, Some("gateway")).unwrap();
    dir
}

const TLS_LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8443\"\n[listeners.tls]\n";

#[test]
fn builds_tls_listeners_and_https_upstreams_and_watches_their_files() {
    let dir = certificate_dir("valid");
    let text = format!(
        "{TLS_LISTENER}certificates = [{{ cert = \"server.pem\", key = \"server-key.pem\" }}]\n\
         hsts = \"max-age=600\"\n\
         client_auth = {{ mode = \"optional\", ca = \"ca.pem\", forward_headers = true }}\n\
         [upstreams.o]\nurl = \"https://localhost:9443/api/\"\n\
         tls = {{ ca = \"ca.pem\", client_cert = \"client.pem\", client_key = \"client-key.pem\" }}\n"
    );
    let config = parse(&dir.join("gw.toml"), &text).unwrap();
    let tls = config.listeners[0].tls.as_ref().unwrap();
    assert_eq!(tls.hsts.as_ref().unwrap(), "max-age=600");
    assert_eq!(
        tls.client_auth,
        Some(super::super::ClientAuthMode::Optional)
    );
    assert!(tls.forward_client_identity);
    let upstream = &config.upstreams["o"];
    assert_eq!(upstream.targets[0].url, "https://localhost:9443/api");
    assert!(upstream.tls.is_some());
    for file in [
        "server.pem",
        "server-key.pem",
        "ca.pem",
        "client.pem",
        "client-key.pem",
    ] {
        assert!(config.watched_files.contains(&dir.join(file)), "{file}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rejects_unreadable_or_mismatched_certificates_naming_the_file_and_key() {
    let dir = certificate_dir("invalid");
    std::fs::write(dir.join("garbage.pem"), "not a certificate\n").unwrap();
    let listener = |cert: &str, key: &str| {
        let text =
            format!("{TLS_LISTENER}certificates = [{{ cert = \"{cert}\", key = \"{key}\" }}]\n");
        let mut errors = match parse(&dir.join("gw.toml"), &text) {
            Ok(_) => panic!("{cert} with {key} loaded"),
            Err(errors) => errors.0,
        };
        assert_eq!(errors.len(), 1, "{}", ConfigErrors(errors.clone()));
        let e = errors.remove(0);
        (
            e.key.unwrap(),
            e.message.replace(&dir.display().to_string(), "DIR"),
        )
    };
    let cert_key = "listeners[0].tls.certificates[0].cert".to_owned();
    assert_eq!(
        listener("garbage.pem", "server-key.pem"),
        (
            cert_key.clone(),
            "`DIR/garbage.pem` holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block)"
                .to_owned()
        )
    );
    let (key, message) = listener("server.pem", "client-key.pem");
    assert_eq!(key, cert_key);
    assert!(
        message.starts_with("`DIR/server.pem`: the key does not fit the certificate"),
        "{message}"
    );
    let (key, message) = listener("server.pem", "nothing.pem");
    assert_eq!(key, "listeners[0].tls.certificates[0].key");
    assert!(
        message.starts_with("cannot read `DIR/nothing.pem`"),
        "{message}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rejects_tls_settings_that_cannot_apply() {
    let e = error("[upstreams.o]\nurl = \"http://o\"\ntls = { server_name = \"o\" }\n");
    assert_eq!(e.message, "`tls` settings on an `http` upstream");
    let e = errors("[[listeners]]\naddress = \"127.0.0.1:8443\"\nredirect_https_port = 0\n");
    assert_eq!(e[0].message, "`redirect_https_port = 0` is out of range");
}

#[test]
fn rejects_recording_a_route_that_does_not_exist() {
    let e = error(
        "[[routes]]\nid = \"books\"\npath = \"/books\"\nintegration = { type = \"mock\", status = 200 }\n\
         [record]\npath = \"rec.jsonl\"\nroutes = [\"book\"]\nsample_ratio = 0.5\n",
    );
    assert_eq!(
        (e.message.as_str(), e.line, e.key.as_deref()),
        (
            "no route has the id `book`",
            Some(9),
            Some("record.routes[0]")
        )
    );
    assert_eq!(e.help.as_deref(), Some("route ids are `books`"));
}

#[test]
fn rejects_a_record_sample_ratio_out_of_range() {
    let e = error("[record]\npath = \"rec.jsonl\"\nsample_ratio = 1.5\n");
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        (
            "`sample_ratio = 1.5` is out of range",
            Some("record.sample_ratio")
        )
    );
}

#[test]
fn keep_headers_takes_a_header_out_of_the_redacted_ones() {
    let text = format!(
        "{LISTENER}[record]\npath = \"rec.jsonl\"\nredact_headers = [\"x-session\"]\n\
         keep_headers = [\"authorization\"]\n"
    );
    let config = parse(Path::new("gw.toml"), &text).expect("a valid config");
    let record = config.record.expect("a [record] section");
    let redacted: Vec<&str> = record.redact_headers.iter().map(|h| h.as_str()).collect();
    assert_eq!(
        redacted,
        [
            "cookie",
            "proxy-authorization",
            "set-cookie",
            "x-api-key",
            "x-session"
        ]
    );
}
