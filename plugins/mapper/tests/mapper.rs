//! The `mapper` plugin against the SDK's fake host.
#![cfg(not(target_arch = "wasm32"))]

use mapper::Mapper;
use serde_json::{Value, json};
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{Action, BodyAccess, InitError, Plugin, Stages};

fn plugin(config: Value) -> Mapper {
    testing::init::<Mapper>(config).expect("valid config")
}

fn config_error(config: Value) -> String {
    match testing::init::<Mapper>(config) {
        Err(InitError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn maps_method_path_query_headers_and_body() {
    let plugin = plugin(json!({
        "variables": { "table": "books" },
        "request": {
            "method": "POST",
            "path": "/tables/{{ variables.table }}/items/{{ path.id | urlencode }}",
            "query": { "set": { "limit": "{{ query.n | default(10) }}" }, "rename": { "q": "filter" }, "remove": ["debug"] },
            "headers": { "set": { "x-request-id": "{{ context['gateway.request-id'] }}" }, "rename": { "x-old": "x-new" }, "remove": ["cookie"] },
            "body": r#"{"TableName": {{ variables.table }}, "Key": {{ "book-" ~ path.id }}, "Title": {{ body.title }}, "First": {{ body.authors[0].name }}}"#,
        },
    }));
    assert_eq!(plugin.stages(), Stages::INTEGRATION_REQUEST);
    assert_eq!(plugin.body_access(), BodyAccess::REQUEST);
    let mut request = FakeRequest::new("GET", "/books/a%20b?q=dune&debug=1&n=5")
        .path_param("id", "a b")
        .header("cookie", "s=1")
        .header("x-old", "v")
        .body(r#"{"title":"Dune","authors":[{"name":"Frank"}]}"#);
    let mut context = FakeContext::new().with("gateway.request-id", "req-9");
    let action = testing::integration_request(&plugin, &mut request, &mut context);
    assert_eq!(action, Action::Continue);
    assert_eq!(request.method(), "POST");
    assert_eq!(request.path(), "/tables/books/items/a%20b");
    assert_eq!(request.query(), Some("filter=dune&n=5&limit=5"));
    assert_eq!(request.header_str("x-request-id"), Some("req-9"));
    assert_eq!(request.header_str("x-new"), Some("v"));
    assert!(!request.headers().contains("x-old") && !request.headers().contains("cookie"));
    assert_eq!(request.header_str("content-type"), Some("application/json"));
    assert_eq!(
        request.body_str(),
        Some(r#"{"TableName": "books", "Key": "book-a b", "Title": "Dune", "First": "Frank"}"#)
    );
}

#[test]
fn reshapes_a_response_selected_by_status() {
    let plugin = plugin(json!({ "response": {
        "headers": { "remove": ["x-internal"] },
        "rules": [
            { "backend_status": "2\\d\\d", "body": r#"{"books": [{% for i in body.Items %}{{ i.title.S }}{% if not loop.last %},{% endif %}{% endfor %}], "count": {{ body.Count }}}"# },
            { "backend_status": "5\\d\\d", "status": 502, "body": r#"{"message": "backend failed", "type": "BACKEND_ERROR", "was": {{ status }}}"# },
        ],
    }}));
    assert_eq!(plugin.body_access(), BodyAccess::RESPONSE);
    let request = FakeRequest::new("GET", "/books");
    let mut ok = FakeResponse::new(200)
        .header("x-internal", "1")
        .body(r#"{"Count":2,"Items":[{"title":{"S":"Dune"}},{"title":{"S":"Emma"}}]}"#);
    assert_eq!(
        testing::integration_response(&plugin, &request, &mut ok, &mut FakeContext::new()),
        Action::Continue
    );
    assert_eq!(
        ok.body_str(),
        Some(r#"{"books": ["Dune","Emma"], "count": 2}"#)
    );
    assert!(!ok.headers().contains("x-internal"));

    let mut failed = FakeResponse::new(503).body("upstream stack trace");
    assert_eq!(
        testing::integration_response(&plugin, &request, &mut failed, &mut FakeContext::new()),
        Action::Continue
    );
    assert_eq!(failed.status(), 502);
    assert_eq!(
        failed.body_str(),
        Some(r#"{"message": "backend failed", "type": "BACKEND_ERROR", "was": 503}"#)
    );

    let mut untouched = FakeResponse::new(404).body("nope");
    let _ =
        testing::integration_response(&plugin, &request, &mut untouched, &mut FakeContext::new());
    assert_eq!(
        (untouched.status(), untouched.body_str()),
        (404, Some("nope"))
    );
}

#[test]
fn a_runtime_template_error_is_a_500_mapping_failure_with_the_reason_logged() {
    let plugin = plugin(json!({ "request": { "body": r#"{"a": {{ body.missing.deeper }}}"# } }));
    let mut request = FakeRequest::new("POST", "/").body("{}");
    let mut context = FakeContext::new().with("gateway.request-id", "r");
    let response = testing::integration_request(&plugin, &mut request, &mut context);
    let response = response.response().expect("an answer").clone();
    assert_eq!(response.status, 500);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["type"], "MAPPING_FAILURE");
    let lines = testing::take_log_lines();
    assert!(
        lines[0]
            .field("reason")
            .unwrap()
            .starts_with("template `request.body`:"),
        "{lines:?}"
    );
}

#[test]
fn a_template_rendering_invalid_json_is_a_mapping_failure() {
    let plugin = plugin(json!({ "request": { "body": r#"{"a": "{{ query.x }}"}"# } }));
    let mut request = FakeRequest::new("POST", "/?x=1");
    let action = testing::integration_request(&plugin, &mut request, &mut FakeContext::new());
    assert_eq!(action.response().map(|r| r.status), Some(500));
    assert_eq!(plugin.body_access(), BodyAccess::NONE);
}

#[test]
fn templates_that_do_not_parse_fail_init_naming_the_key() {
    assert!(
        config_error(json!({ "response": { "rules": [{}, { "body": "{{ body." }] } }))
            .starts_with("`response.rules[1].body`: template error:")
    );
    assert!(
        config_error(json!({ "request": { "path": "{% for %}" } }))
            .starts_with("`request.path`: template error:")
    );
    assert_eq!(
        config_error(json!({ "request": { "headers": { "set": { "content-length": "1" } } } })),
        "`request.headers.set.content-length`: `content-length` is managed by the gateway and cannot be edited"
    );
    assert!(
        config_error(json!({ "response": { "rules": [{ "backend_status": "(" }] } }))
            .starts_with("`response.rules[0].backend_status`: invalid regex")
    );
    assert_eq!(
        config_error(json!({ "request": { "method": "GE T" } })),
        "`request.method`: `GE T` is not an HTTP method"
    );
}

#[test]
fn variables_are_built_only_when_read_and_still_seen_when_read() {
    let plugin = plugin(json!({ "request": {
        "body": r#"{"m": {{ method }}, "a": {{ headers["x-a"] }}, "raw": {{ raw_body | length }}}"#,
    } }));
    let mut request = FakeRequest::new("PUT", "/x")
        .header("x-a", "first")
        .header("x-a", "second")
        .body("12345");
    let action = testing::integration_request(&plugin, &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
    assert_eq!(
        request.body_str(),
        Some(r#"{"m": "PUT", "a": "first", "raw": 5}"#),
        "a header's first value, as before"
    );
}

/// Templates that only print values are rendered without the engine; the output must be the
/// engine's, byte for byte (a `{# #}` comment makes the same template go through the engine).
#[test]
fn planned_templates_render_as_the_engine_does() {
    let body = r#"{"title":"Dune \"<&>'\n\t\u0001 é","n":-3,"f":1.5e3,"g":0.1,"ok":true,"none":null,"tags":["a",{"z":1,"a":[2.25]}],"deep":{"k":{"v":"x"}}}"#;
    let template = r#"  {"t": {{ body.title }}, "n": {{ body.n }}, "f": {{ body.f }}, "g": {{ body.g }}, "ok": {{ body.ok }}, "none": {{ body.none }}, "tags": {{ body.tags }}, "second": {{ body.tags[1] }}, "v": {{ body["deep"].k.v }}, "id": {{ context['gateway.request-id'] }}, "all": {{ body }}, "nested": {"x": {{ body.n }}}}
"#;
    let header =
        "{{ body.n }}/{{ body.ok }}/{{ body.deep.k.v }}/{{ context['gateway.request-id'] }}";
    let render = |comment: &str| {
        let plugin = plugin(json!({ "request": {
            "headers": { "set": { "x-out": format!("{comment}{header}") } },
            "body": format!("{comment}{template}"),
        }}));
        let mut request = FakeRequest::new("POST", "/").body(body);
        let mut context = FakeContext::new().with("gateway.request-id", "req-\"1\"");
        let action = testing::integration_request(&plugin, &mut request, &mut context);
        assert_eq!(action, Action::Continue);
        (
            request.body_str().map(str::to_owned),
            request.header_str("x-out").map(str::to_owned),
        )
    };
    let planned = render("");
    assert_eq!(planned, render("{# through the engine #}"));
    assert_eq!(planned.1.as_deref(), Some("-3/True/x/req-\"1\""));
}

/// A planned template whose value is missing fails as the engine fails; one printing a value
/// plain text cannot show (a list in a header) is printed by the engine.
#[test]
fn planned_templates_fall_back_to_the_engine() {
    let failing = plugin(json!({ "request": {
        "headers": { "set": { "x-tags": "{{ body.tags }}" } },
        "body": r#"{"missing": {{ body.nothing }}}"#,
    }}));
    let mut request = FakeRequest::new("POST", "/").body(r#"{"tags":["a","b"]}"#);
    let mut context = FakeContext::new();
    let action = testing::integration_request(&failing, &mut request, &mut context);
    assert!(
        matches!(action, Action::Respond(ref r) if r.status == 500),
        "{action:?}"
    );

    let listing =
        plugin(json!({ "request": { "headers": { "set": { "x-tags": "{{ body.tags }}" } } } }));
    let mut request = FakeRequest::new("POST", "/").body(r#"{"tags":["a","b"]}"#);
    let action = testing::integration_request(&listing, &mut request, &mut context);
    assert_eq!(action, Action::Continue);
    assert_eq!(request.header_str("x-tags"), Some("['a', 'b']"));
}
