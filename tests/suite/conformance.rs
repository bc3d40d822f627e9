//! The conformance test of the plugin contract: the same edits, valid and invalid, through the
//! SDK's fake host (the `edit-probe` plugin natively, as a plugin's own tests run it) and
//! through the gateway (the same plugin compiled to a component). Both answer with what each
//! edit returned (ok, read-only, or invalid with its message) and what the message looks like
//! afterwards, and what the shared store and the metrics capability answered to calls at and
//! past their bounds; any difference fails the test, naming the script. A rule changed in one
//! host alone (rather than in `wasmgate-plugin-contract`, which both use) shows up here.

use edit_probe::{EditProbe, REQUEST_SCRIPT, RESPONSE_SCRIPT};
use http::Method;
use serde_json::Value;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};
use wasmgate_tests::{TestGateway, http1, plugin_path};

/// Request-side scripts (applied at METHOD REQUEST), arguments percent-encoded.
const REQUEST_SCRIPTS: &[&str] = &[
    "set-method PATCH; set-method GE%20T; set-method %00; set-method get",
    "set-path /v2/orders; set-path orders; set-path /a?b; set-path /a%23b; set-path /a%20b; \
     set-path /a<b; set-path /a%22b; set-path /caf%C3%A9; set-path /a{b}%7C",
    "set-query a=1&b=2; set-query a%23b; set-query a%22b; set-query a%20b; set-query",
    "remove-query",
    "set-header x-a 1; append-header x-a 2; set-header X-B up; set-header x%20y 1; \
     set-header x-c a%0D%0Ab; set-header x-tab a%09b; set-header x-bin %FF%FE; \
     remove-header x-absent; set-header %00 1",
    "set-header content-length 5; remove-header transfer-encoding; append-header Connection close; \
     set-header keep-alive 1; set-header te trailers; set-header upgrade h2c; \
     remove-header proxy-authorization; set-header Proxy-Connection x",
    "context-set auth.principal alice; context-set gateway.route-id forged; \
     context-remove gateway.client-ip; context-set probe.k v; context-remove probe.k; \
     context-set probe.empty",
    "kv-set k 3 1000; kv-set k 65536 1000; kv-set k 65537 1000; kv-set k 1 0; \
     kv-set k 1 604800000; kv-set @4096 1 1000; kv-set @4097 1 1000; kv-set @0 1 1000; \
     kv-get k; kv-get @0; kv-get @4097; kv-delete k; kv-delete @4097",
    "bucket b 5 10 1000; bucket b 0 1 1000; bucket b 1 0 1000; bucket b 1 1 0; \
     bucket b 1 100 31536000000; bucket b 1 101 31536000000; bucket @4097 1 1 1000; \
     quota q 10; quota q 9007199254740991; quota q 9007199254740992; quota @0 1",
    "counter hits; counter hits route=a; gauge hits; histogram hits route=b; gauge level; \
     counter Hits; counter hits Route=a; counter hits v=@128; counter hits v=@129; \
     counter hits a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8; counter hits a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9",
];

/// Response-side scripts (applied at METHOD RESPONSE).
const RESPONSE_SCRIPTS: &[&str] = &[
    "set-status 201; set-status 99; set-status 101; set-status 199; set-status 600; \
     set-status 599; set-status 200",
    "set-header x-a 1; append-header x-a 2; set-header X-B up; set-header x%20y 1; \
     set-header x-c a%0A; set-header content-length 0; remove-header transfer-encoding; \
     set-header trailer x; remove-header x-absent",
    "context-set auth.principal bob; context-set gateway.request-id forged; \
     context-remove gateway.trace-id; context-set probe.k v",
];

/// The probe's answer, as JSON.
fn report(action: wasmgate_plugin_sdk::Action) -> Value {
    let answer = action
        .response()
        .expect("the probe answers when given a script");
    serde_json::from_slice(&answer.body).expect("the probe answers JSON")
}

fn on_fake_host_request_side(script: &str) -> Value {
    let mut request = FakeRequest::new("GET", "/start?x=1").header(REQUEST_SCRIPT, script);
    report(testing::method_request(
        &EditProbe,
        &mut request,
        &mut FakeContext::new(),
    ))
}

fn on_fake_host_response_side(script: &str) -> Value {
    let request = FakeRequest::new("GET", "/start").header(RESPONSE_SCRIPT, script);
    report(testing::method_response(
        &EditProbe,
        &request,
        &mut FakeResponse::new(200),
        &mut FakeContext::new(),
    ))
}

async fn in_the_gateway(gateway: &TestGateway, header: &str, script: &str) -> Value {
    let response = http1()
        .send(
            Method::GET,
            &gateway.url("/start?x=1"),
            &[(header, script)],
            "",
        )
        .await;
    assert_eq!(response.status.as_u16(), 200, "{script}: {response:?}");
    response.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_host_and_the_gateway_answer_every_edit_alike() {
    let gateway = TestGateway::start(&format!(
        r#"
# Named for this test alone: metric names are owned process-wide, per plugin name.
[plugins.conformance]
path = "{probe}"
grants = ["kv", "rate-limit", "metrics"]

[[routes]]
id = "conformance"
path = "/start"
plugins = ["conformance"]
integration = {{ type = "mock", status = 200 }}
"#,
        probe = plugin_path("edit_probe"),
    ))
    .await;

    let mut differences = Vec::new();
    let mut outcomes = Vec::new();
    let sides = [
        (
            REQUEST_SCRIPT,
            REQUEST_SCRIPTS,
            on_fake_host_request_side as fn(&str) -> Value,
        ),
        (
            RESPONSE_SCRIPT,
            RESPONSE_SCRIPTS,
            on_fake_host_response_side,
        ),
    ];
    for (header, scripts, on_fake_host) in sides {
        for script in scripts {
            let fake = on_fake_host(script);
            let real = in_the_gateway(&gateway, header, script).await;
            if fake != real {
                differences.push(format!(
                    "{header}: {script}\n  fake host: {fake}\n  gateway:   {real}"
                ));
            }
            outcomes.extend(fake["outcomes"].as_array().cloned().unwrap_or_default());
        }
    }
    assert!(
        differences.is_empty(),
        "the hosts disagree:\n{}",
        differences.join("\n")
    );
    // The table exercises every kind of answer, so agreement means something.
    let kinds = |prefix: &str| {
        outcomes
            .iter()
            .filter(|outcome| outcome.as_str().is_some_and(|o| o.starts_with(prefix)))
            .count()
    };
    assert!(
        kinds("ok") > 10 && kinds("read-only") >= 4 && kinds("invalid: ") > 20,
        "{outcomes:?}"
    );
}
