//! The fake host applies the gateway's rules, so native tests catch what the gateway would refuse.
//!
//! The fake host exists on native targets only, so these tests do too.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, SystemTime};

use serde_json::json;
use wasmgate_plugin_sdk::log::{self, Level};
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_plugin_sdk::{
    Action, BodyAccess, BodyError, Context, EditError, InitError, NoConfig, Plugin, Request,
    Response, ResponseData, Stages, clock,
};

type OnRequest = fn(&mut Request<'_>, &mut Context<'_>) -> Action;
type OnResponse = fn(&Request<'_>, &mut Response<'_>, &mut Context<'_>) -> Action;

/// A plugin whose stages run the test's code.
struct Hooks {
    stages: Stages,
    body: BodyAccess,
    on_request: OnRequest,
    on_response: OnResponse,
}

impl Hooks {
    fn request(on_request: OnRequest) -> Self {
        Hooks {
            stages: Stages::METHOD_REQUEST,
            body: BodyAccess::NONE,
            on_request,
            on_response: |_, _, _| panic!("not declared"),
        }
    }

    fn response(on_response: OnResponse) -> Self {
        Hooks {
            stages: Stages::METHOD_RESPONSE,
            body: BodyAccess::NONE,
            on_request: |_, _| panic!("not declared"),
            on_response,
        }
    }

    fn body(self, body: BodyAccess) -> Self {
        Hooks { body, ..self }
    }
}

impl Plugin for Hooks {
    type Config = NoConfig;

    fn init(_: NoConfig) -> Result<Self, InitError> {
        Err(InitError::failed("built directly by the tests"))
    }

    fn stages(&self) -> Stages {
        self.stages
    }

    fn body_access(&self) -> BodyAccess {
        self.body
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        (self.on_request)(request, context)
    }

    fn on_method_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        (self.on_response)(request, response, context)
    }
}

fn run_request(plugin: &Hooks, mut request: FakeRequest) -> (Action, FakeRequest) {
    let action = testing::method_request(plugin, &mut request, &mut FakeContext::new());
    (action, request)
}

fn run_response(plugin: &Hooks, mut response: FakeResponse) -> (Action, FakeResponse) {
    let request = FakeRequest::new("GET", "/");
    let action = testing::method_response(plugin, &request, &mut response, &mut FakeContext::new());
    (action, response)
}

#[test]
fn body_reads_fail_unless_the_body_was_declared() {
    let read = Hooks::request(|request, _| {
        match request.body() {
            Ok(body) => request.set_header("x-body", body).unwrap(),
            Err(err) => request.set_header("x-error", err.to_string()).unwrap(),
        }
        Action::Continue
    });
    let (_, request) = run_request(&read, FakeRequest::new("POST", "/").body("hi"));
    assert_eq!(
        request.header_str("x-error"),
        Some(BodyError::NotDeclared.to_string().as_str())
    );

    let read = read.body(BodyAccess::REQUEST);
    let (_, request) = run_request(&read, FakeRequest::new("POST", "/").body("hi"));
    assert_eq!(request.header_str("x-body"), Some("hi"));

    let (_, request) = run_request(&read, FakeRequest::new("POST", "/").body("hi").body_cap(1));
    assert_eq!(
        request.header_str("x-error"),
        Some(BodyError::TooLarge(1).to_string().as_str())
    );
}

#[test]
fn response_body_reads_need_their_own_declaration() {
    let read = Hooks::response(|_, response, _| {
        assert_eq!(response.body(), Err(BodyError::NotDeclared));
        Action::Continue
    })
    .body(BodyAccess::REQUEST);
    let _ = run_response(&read, FakeResponse::new(200).body("x"));
}

#[test]
fn gateway_context_keys_are_read_only() {
    let plugin = Hooks::request(|_, context| {
        assert_eq!(
            context.set("gateway.request-id", "forged"),
            Err(EditError::ReadOnly)
        );
        assert_eq!(
            context.remove("gateway.client-ip"),
            Err(EditError::ReadOnly)
        );
        context.set("auth.principal", "alice").unwrap();
        assert_eq!(
            context.request_id().as_deref(),
            Some(FakeContext::REQUEST_ID)
        );
        Action::Continue
    });
    let mut context = FakeContext::new();
    let _ = testing::method_request(&plugin, &mut FakeRequest::new("GET", "/"), &mut context);
    assert_eq!(context.get("auth.principal"), Some("alice"));
    assert_eq!(
        context.get("gateway.request-id"),
        Some(FakeContext::REQUEST_ID)
    );
}

#[test]
fn invalid_edits_are_refused() {
    let plugin = Hooks::request(|request, _| {
        let invalid = |result: Result<(), EditError>| matches!(result, Err(EditError::Invalid(_)));
        assert!(invalid(request.set_header("x y", "1")));
        assert!(invalid(request.append_header("x-a", "1\r\nx-b: 2")));
        assert!(invalid(request.set_path("orders")));
        assert!(invalid(request.set_path("/orders?x=1")));
        assert!(invalid(request.set_method("GE T")));
        assert!(invalid(request.set_query(Some("a=1#frag"))));
        request.set_path("/v2/orders").unwrap();
        request.set_method("POST").unwrap();
        request.set_query(None).unwrap();
        Action::Continue
    });
    let (_, request) = run_request(&plugin, FakeRequest::new("GET", "/orders?x=1"));
    assert_eq!(
        (request.method(), request.path(), request.query()),
        ("POST", "/v2/orders", None)
    );

    let plugin = Hooks::response(|_, response, _| {
        assert!(matches!(
            response.set_status(600),
            Err(EditError::Invalid(_))
        ));
        response.set_status(502).unwrap();
        Action::Continue
    });
    assert_eq!(
        run_response(&plugin, FakeResponse::new(200)).1.status(),
        502
    );
}

#[test]
fn headers_are_case_insensitive_multi_valued_bytes() {
    let plugin = Hooks::request(|request, _| {
        assert_eq!(request.header("ACCEPT"), Some(b"a".to_vec()));
        assert_eq!(
            request.header_values("accept"),
            [b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(request.header_names(), ["accept", "x-bin"]);
        assert_eq!(
            request.headers(),
            [
                ("accept".to_owned(), b"a".to_vec()),
                ("accept".to_owned(), b"b".to_vec()),
                ("x-bin".to_owned(), vec![0xff]),
            ],
            "one entry per value, a name's values together"
        );
        assert_eq!(request.header_str("x-bin"), None, "not UTF-8");
        assert_eq!(request.header("x-bin"), Some(vec![0xff]));
        request.set_header("Accept", "c").unwrap();
        request.append_header("x-new", "1").unwrap();
        request.remove_header("x-bin").unwrap();
        Action::Continue
    });
    let request = FakeRequest::new("GET", "/")
        .header("Accept", "a")
        .header("x-bin", [0xff])
        .header("accept", "b");
    let (_, request) = run_request(&plugin, request);
    assert_eq!(request.headers().names(), ["accept", "x-new"]);
    assert_eq!(request.headers().get_all("accept"), [b"c"]);
}

#[test]
fn query_and_path_parameters_are_decoded() {
    let plugin = Hooks::request(|request, _| {
        assert_eq!(request.query().as_deref(), Some("q=a%20b+c&flag&q=2"));
        assert_eq!(request.query_param("q").as_deref(), Some("a b c"));
        assert_eq!(request.query_param("flag").as_deref(), Some(""));
        assert_eq!(request.query_param("missing"), None);
        assert_eq!(request.path_param("id").as_deref(), Some("42"));
        assert_eq!(request.path_params(), [("id".to_owned(), "42".to_owned())]);
        Action::Continue
    });
    let request = FakeRequest::new("GET", "/orders/42?q=a%20b+c&flag&q=2").path_param("id", "42");
    assert_eq!(run_request(&plugin, request).0, Action::Continue);
}

#[test]
fn undeclared_stages_are_not_called() {
    let plugin = Hooks::request(|_, _| Action::Continue);
    assert_eq!(
        run_response(&plugin, FakeResponse::new(200)).0,
        Action::Continue
    );
    let mut request = FakeRequest::new("GET", "/");
    let action = testing::integration_request(&plugin, &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
}

#[test]
fn json_errors_have_the_gateway_shape() {
    let plugin = Hooks::request(|_, context| {
        Action::json_error(context, 401, "UNAUTHORIZED", "missing x-api-key header")
    });
    let (action, _) = run_request(&plugin, FakeRequest::new("GET", "/"));
    let response = action.response().expect("a response");
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header_str("Content-Type"),
        Some("application/json")
    );
    assert_eq!(
        response.body_str(),
        Some(
            r#"{"message":"missing x-api-key header","type":"UNAUTHORIZED","requestId":"test-request-id"}"#
        )
    );
}

#[test]
#[should_panic(expected = "the plugin answered with status 42")]
fn an_invalid_response_fails_the_test() {
    let plugin = Hooks::request(|_, _| Action::Respond(ResponseData::new(42)));
    let _ = run_request(&plugin, FakeRequest::new("GET", "/"));
}

#[test]
fn log_lines_are_recorded_per_test_above_the_level() {
    log::info("kept", &[("key", "value")]);
    testing::set_log_level(Level::Warn);
    assert!(!log::enabled(Level::Info) && log::enabled(Level::Error));
    log::debug("dropped", &[]);
    log::error("kept too", &[]);

    let lines = testing::take_log_lines();
    let messages: Vec<_> = lines.iter().map(|line| line.message.as_str()).collect();
    assert_eq!(messages, ["kept", "kept too"]);
    assert_eq!(lines[0].field("key"), Some("value"));
    assert!(testing::log_lines().is_empty());
}

#[test]
fn the_clock_can_be_frozen_and_advanced() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    testing::freeze_clock(at);
    let start = clock::monotonic_nanos();
    assert_eq!(clock::now(), at);
    testing::advance_clock(Duration::from_millis(1500));
    assert_eq!(clock::now(), at + Duration::from_millis(1500));
    assert_eq!(clock::monotonic_nanos() - start, 1_500_000_000);
    testing::unfreeze_clock();
    assert!(clock::now() > at);
}

#[test]
fn init_goes_through_the_json_config_path() {
    assert_eq!(
        testing::init::<Hooks>(json!({ "unexpected": true })).err(),
        Some(InitError::InvalidConfig(
            "unknown key `unexpected` (at `unexpected`)".into()
        ))
    );
}
