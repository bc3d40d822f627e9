//! The `validator` plugin against the SDK's fake host.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::{Value, json};
use validator::RequestValidator;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
use wasmgate_plugin_sdk::{Action, BodyAccess, InitError, Plugin};

fn plugin(config: Value) -> RequestValidator {
    testing::init::<RequestValidator>(config).expect("valid config")
}

fn config_error(config: Value) -> String {
    match testing::init::<RequestValidator>(config) {
        Err(InitError::InvalidConfig(message)) => message,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

/// Runs the plugin; `(status, body)` of its answer, or `None` when it lets the request through.
fn run(plugin: &RequestValidator, mut request: FakeRequest) -> Option<(u16, Value)> {
    let mut context = FakeContext::new().with("gateway.request-id", "req-1");
    match testing::method_request(plugin, &mut request, &mut context) {
        Action::Continue => None,
        Action::Respond(response) => {
            assert_eq!(
                response.header_str("content-type"),
                Some("application/json")
            );
            Some((
                response.status,
                serde_json::from_slice(&response.body).unwrap(),
            ))
        }
    }
}

fn book_schema() -> Value {
    json!({ "body": { "models": { "application/json": { "schema": {
        "type": "object",
        "required": ["title", "year"],
        "additionalProperties": false,
        "properties": {
            "title": { "type": "string", "minLength": 1 },
            "year": { "type": "integer" },
            "authors": { "type": "array", "items": { "type": "object", "required": ["name"] } }
        }
    }}}}})
}

fn post(body: &str) -> FakeRequest {
    FakeRequest::new("POST", "/books")
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
}

#[test]
fn accepts_a_body_that_matches_its_schema() {
    let plugin = plugin(book_schema());
    assert_eq!(plugin.body_access(), BodyAccess::REQUEST);
    assert_eq!(run(&plugin, post(r#"{"title":"Dune","year":1965}"#)), None);
}

#[test]
fn lists_every_schema_error_with_its_pointer() {
    let (status, body) = run(
        &plugin(book_schema()),
        post(r#"{"title":"","year":"1965","authors":[{}],"x":1}"#),
    )
    .unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    assert_eq!(body["requestId"], "req-1");
    let mut locations: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap())
        .collect();
    locations.sort_unstable();
    assert_eq!(
        locations,
        ["/body", "/body/authors/0", "/body/title", "/body/year"],
        "{body}"
    );
}

#[test]
fn answers_400_not_500_to_malformed_json() {
    let (status, body) = run(&plugin(book_schema()), post(r#"{"title": "#)).unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    assert_eq!(body["errors"][0]["location"], "/body");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON")
    );
}

#[test]
fn refuses_an_empty_body_unless_optional() {
    let (status, body) = run(&plugin(book_schema()), post("")).unwrap();
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (400, json!("a request body is required"))
    );
    let mut optional = book_schema();
    optional["body"]["required"] = json!(false);
    assert_eq!(
        run(&plugin(optional), FakeRequest::new("POST", "/books")),
        None
    );
}

#[test]
fn answers_415_to_a_content_type_without_a_model() {
    let plugin = plugin(book_schema());
    let request = FakeRequest::new("POST", "/books")
        .header("content-type", "text/plain")
        .body("hi");
    let (status, body) = run(&plugin, request).unwrap();
    assert_eq!(status, 415);
    assert_eq!(body["type"], "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(
        body["message"],
        "content type `text/plain` is not accepted; accepted: application/json"
    );
    let (status, _) = run(&plugin, FakeRequest::new("POST", "/books").body("{}")).unwrap();
    assert_eq!(status, 415);
}

#[test]
fn selects_the_model_by_content_type_with_wildcards() {
    let plugin = plugin(json!({ "body": { "models": {
        "application/json": { "schema": { "type": "array" } },
        "application/vnd.book+json": { "schema": r#"{"type": "object"}"# },
        "text/*": {},
    }}}));
    let with = |content_type: &str, body: &str| {
        FakeRequest::new("POST", "/")
            .header("content-type", content_type)
            .body(body.to_owned())
    };
    assert_eq!(run(&plugin, with("application/json", "[]")), None);
    assert_eq!(run(&plugin, with("Application/VND.book+json", "{}")), None);
    assert_eq!(
        run(&plugin, with("application/vnd.book+json", "[]"))
            .unwrap()
            .0,
        400
    );
    assert_eq!(run(&plugin, with("text/csv", "a,b")), None);
    assert_eq!(run(&plugin, with("image/png", "x")).unwrap().0, 415);
}

#[test]
fn answers_413_above_its_own_cap_and_the_gateways() {
    let mut config = book_schema();
    config["body"]["max_bytes"] = json!(16);
    let (status, body) = run(&plugin(config), post(r#"{"title":"Dune","year":1965}"#)).unwrap();
    assert_eq!(
        (status, body["type"].as_str()),
        (413, Some("REQUEST_TOO_LARGE"))
    );
    let capped = post(r#"{"title":"Dune","year":1965}"#).body_cap(8);
    assert_eq!(run(&plugin(book_schema()), capped).unwrap().0, 413);
}

#[test]
fn supports_drafts_4_7_and_2020_12() {
    // Draft 4: boolean `exclusiveMinimum` next to `minimum`.
    let draft4 = plugin(json!({ "body": { "models": { "application/json": {
        "draft": "4",
        "schema": { "type": "integer", "minimum": 0, "exclusiveMinimum": true },
    }}}}));
    assert_eq!(run(&draft4, post("0")).unwrap().0, 400);
    assert_eq!(run(&draft4, post("1")), None);
    // Draft 7 from `$schema`: `definitions` + `$ref`.
    let draft7 = plugin(
        json!({ "body": { "models": { "application/json": { "schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": { "year": { "type": "integer" } },
            "properties": { "year": { "$ref": "#/definitions/year" } },
        }}}}}),
    );
    assert_eq!(
        run(&draft7, post(r#"{"year":"x"}"#)).unwrap().1["errors"][0]["location"],
        "/body/year"
    );
    // 2020-12 (the default): `prefixItems`.
    let draft2020 = plugin(
        json!({ "body": { "models": { "application/json": { "schema": {
            "prefixItems": [{ "type": "string" }, { "type": "integer" }],
        }}}}}),
    );
    assert_eq!(run(&draft2020, post(r#"["a", 1]"#)), None);
    assert_eq!(
        run(&draft2020, post(r#"["a", "b"]"#)).unwrap().1["errors"][0]["location"],
        "/body/1"
    );
}

#[test]
fn checks_required_params_types_and_patterns() {
    let plugin = plugin(json!({
        "path": { "id": { "type": "integer" } },
        "query": { "limit": { "type": "integer", "required": false }, "sort": { "pattern": "^(asc|desc)$" } },
        "headers": { "X-Client": {}, "x-flag": { "type": "boolean", "required": false } },
    }));
    assert_eq!(plugin.body_access(), BodyAccess::NONE);
    let ok = FakeRequest::new("GET", "/books/7?sort=asc")
        .path_param("id", "7")
        .header("x-client", "web");
    assert_eq!(run(&plugin, ok), None);

    let bad = FakeRequest::new("GET", "/books/x?limit=ten")
        .path_param("id", "x")
        .header("x-flag", "yes")
        .header("x-flag", "true");
    let (status, body) = run(&plugin, bad).unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["type"], "BAD_REQUEST_PARAMETERS");
    assert_eq!(body["message"], "the request parameters are invalid");
    assert_eq!(
        body["errors"],
        json!([
            { "location": "/path/id", "message": "\"x\" is not an integer" },
            { "location": "/query/limit", "message": "\"ten\" is not an integer" },
            { "location": "/query/sort", "message": "missing required query parameter" },
            { "location": "/headers/x-client", "message": "missing required header" },
            { "location": "/headers/x-flag", "message": "\"yes\" is not `true` or `false`" },
        ])
    );
}

#[test]
fn checks_params_before_reading_the_body() {
    let mut config = book_schema();
    config["query"] = json!({ "q": {} });
    let (status, body) = run(&plugin(config), post("not json")).unwrap();
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("BAD_REQUEST_PARAMETERS"))
    );
}

#[test]
fn escapes_pointer_segments() {
    let plugin = plugin(
        json!({ "body": { "models": { "application/json": { "schema": {
            "properties": { "a/b~c": { "type": "string" } },
        }}}}}),
    );
    let (_, body) = run(&plugin, post(r#"{"a/b~c": 1}"#)).unwrap();
    assert_eq!(body["errors"][0]["location"], "/body/a~1b~0c");
}

#[test]
fn rejects_invalid_configs_naming_the_key() {
    assert_eq!(
        config_error(json!({ "query": { "sort": { "pattern": "(" } } })),
        "`query.sort.pattern`: invalid regex: regex parse error:\n    (\n    ^\nerror: unclosed group"
    );
    assert_eq!(
        config_error(json!({ "headers": { "x y": {} } })),
        "`headers.x y`: not a valid header name"
    );
    assert!(config_error(json!({ "body": { "models": { "application/json": { "schema": { "type": "objekt" } } } } }))
        .starts_with("`body.models.application/json.schema`: invalid JSON Schema"));
    assert!(
        config_error(json!({ "body": { "models": { "application/json": { "schema": "{" } } } }))
            .starts_with("`body.models.application/json.schema`: the string is not JSON")
    );
    assert_eq!(
        config_error(
            json!({ "body": { "models": { "application/json": { "draft": "5", "schema": {} } } } })
        ),
        "`body.models.application/json.draft`: unknown draft `5`, expected one of: 4, 6, 7, 2019-09, 2020-12"
    );
    assert_eq!(
        config_error(json!({ "body": { "models": { "text/plain": { "schema": {} } } } })),
        "`body.models.text/plain.schema`: a JSON Schema needs a JSON media type (`application/json` or `…+json`)"
    );
    assert_eq!(
        config_error(json!({ "body": { "models": { "json": {} } } })),
        "`body.models.json`: not a media type: write `type/subtype`, `type/*` or `*/*` without parameters"
    );
    assert!(config_error(json!({ "body": {} })).starts_with("`body.models`: no model"));
    assert_eq!(
        config_error(json!({ "query": { "a": { "type": "date" } } })),
        "`query.a.type`: unknown variant `date`, expected one of `string`, `integer`, `number`, `boolean`"
    );
}

#[test]
fn reads_a_schema_from_an_attached_document() {
    let schema = book_schema()["body"]["models"]["application/json"]["schema"].to_string();
    testing::set_document("book", schema.as_bytes());
    let plugin = plugin(json!({ "body": { "models": {
        "application/json": { "schema_document": "book" }
    }}}));
    assert_eq!(run(&plugin, post(r#"{"title":"Dune","year":1965}"#)), None);
    let (status, body) = run(&plugin, post(r#"{"title":"Dune"}"#)).expect("refused");
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("BAD_REQUEST_BODY"))
    );
}

#[test]
fn refuses_a_missing_or_invalid_schema_document() {
    let model = |spec: Value| json!({ "body": { "models": { "application/json": spec } } });
    let missing = config_error(model(json!({ "schema_document": "absent" })));
    assert!(
        missing.contains("`body.models.application/json.schema_document`"),
        "{missing}"
    );
    assert!(missing.contains("no document `absent`"), "{missing}");
    testing::set_document("broken", b"{ not json");
    let broken = config_error(model(json!({ "schema_document": "broken" })));
    assert!(broken.contains("document `broken` is not JSON"), "{broken}");
    let both = config_error(model(json!({ "schema": {}, "schema_document": "broken" })));
    assert!(both.contains("not both"), "{both}");
}
