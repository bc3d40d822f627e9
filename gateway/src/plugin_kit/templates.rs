//! The files `wasmgate plugin new` writes, generated from the chosen stages and capabilities.

use crate::config::Capability;
use crate::exchange::Stage;

/// What a new plugin crate is made of.
pub(super) struct Template<'a> {
    /// The crate name, e.g. `hello` or `add-header`.
    pub(super) name: &'a str,
    /// The stages it implements, in lifecycle order (request side and response side only).
    pub(super) stages: &'a [Stage],
    /// The capabilities it uses.
    pub(super) capabilities: &'a [Capability],
    /// The SDK crate's directory, for the path dependency.
    pub(super) sdk_path: &'a str,
}

impl Template<'_> {
    /// `add-header` → `AddHeader`.
    fn type_name(&self) -> String {
        self.name
            .split(['-', '_'])
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or(String::new(), |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect()
    }

    fn crate_ident(&self) -> String {
        self.name.replace('-', "_")
    }

    fn header(&self) -> String {
        format!("x-{}", self.name.replace('_', "-"))
    }

    fn has(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }

    fn uses(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// `Cargo.toml`.
    pub(super) fn cargo_toml(&self) -> String {
        format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# Its own workspace: the crate builds the same inside or outside a wasmgate checkout.
[workspace]

[lib]
# `cdylib` is the Wasm component; `rlib` lets the native tests in `tests/` link the plugin.
crate-type = ["cdylib", "rlib"]

[dependencies]
# The SDK of the wasmgate checkout `wasmgate plugin new` was built from.
wasmgate-plugin-sdk = {{ path = {sdk:?} }}
serde = {{ version = "1", features = ["derive"] }}

[dev-dependencies]
serde_json = "1"
"#,
            name = self.name,
            sdk = self.sdk_path,
        )
    }

    /// `.gitignore`.
    pub(super) fn gitignore(&self) -> String {
        "/target\n".to_owned()
    }

    /// `src/lib.rs`.
    pub(super) fn lib_rs(&self) -> String {
        let ty = self.type_name();
        let header = self.header();
        let stage_flags: Vec<&str> = self
            .stages
            .iter()
            .map(|stage| match stage {
                Stage::MethodRequest => "Stages::METHOD_REQUEST",
                Stage::IntegrationRequest => "Stages::INTEGRATION_REQUEST",
                Stage::IntegrationResponse => "Stages::INTEGRATION_RESPONSE",
                Stage::MethodResponse => "Stages::METHOD_RESPONSE",
                Stage::Log => "Stages::LOG",
            })
            .collect();
        let mut sdk_items = vec![
            "Action",
            "Context",
            "InitError",
            "Plugin",
            "Request",
            "Stages",
            "header",
        ];
        if self.has(Stage::IntegrationResponse) || self.has(Stage::MethodResponse) {
            sdk_items.push("Response");
        }
        sdk_items.sort_unstable_by_key(|item| item.to_ascii_lowercase());
        let mut uses = String::new();
        if self.uses(Capability::Kv) {
            uses.push_str("use std::time::Duration;\n\n");
        }
        uses.push_str("use serde::Deserialize;\n");
        for capability in self.capabilities {
            let line = match capability {
                Capability::Kv => "use wasmgate_plugin_sdk::kv;\n",
                Capability::RateLimit => "use wasmgate_plugin_sdk::rate_limit::{self, Bucket};\n",
                Capability::Metrics => "use wasmgate_plugin_sdk::metrics;\n",
                Capability::Crypto => "use wasmgate_plugin_sdk::crypto::{self, DigestAlgorithm};\n",
            };
            uses.push_str(line);
        }
        uses.push_str(&format!(
            "use wasmgate_plugin_sdk::{{{}}};\n",
            sdk_items.join(", ")
        ));

        let mut handlers = String::new();
        let mut snippets = self.capability_snippets();
        for stage in self.stages {
            handlers.push_str(&self.handler(*stage, snippets.take()));
        }
        let grants = if self.capabilities.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = self
                .capabilities
                .iter()
                .map(|c| format!("{:?}", c.as_str()))
                .collect();
            format!("//! grants = [{}]\n", names.join(", "))
        };
        format!(
            r#"//! The `{name}` wasmgate plugin.
//!
//! Build it with `wasmgate plugin build`, test it with `wasmgate plugin test` (the fixtures in
//! `fixtures/`, in the real plugin host) and `cargo test` (the native tests in `tests/`, on the
//! SDK's fake host). Use it in a gateway config:
//!
//! ```toml
//! [plugins.{name}]
//! path = "target/wasm32-wasip2/release/{ident}.wasm"
//! config = {{ header = "{header}", value = "hello" }}
{grants}//! ```

{uses}
/// The plugin, as `init` built it from its config.
pub struct {ty} {{
    header: String,
    value: String,
}}

/// The plugin's config: `config = {{ header = "{header}", value = "hello" }}`.
#[derive(Deserialize)]
pub struct Config {{
    /// The header the plugin reads and writes; default `{header}`.
    #[serde(default = "default_header")]
    header: String,
    /// The value it expects at method request and writes at the other stages; default `hello`.
    #[serde(default = "default_value")]
    value: String,
}}

fn default_header() -> String {{
    "{header}".to_owned()
}}

fn default_value() -> String {{
    "hello".to_owned()
}}

impl Plugin for {ty} {{
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {{
        if !header::is_valid_name(&config.header) {{
            return Err(InitError::invalid_config("header", "not a valid header name"));
        }}
        if !header::is_valid_value(config.value.as_bytes()) {{
            return Err(InitError::invalid_config("value", "not a valid header value"));
        }}
        Ok({ty} {{
            header: config.header,
            value: config.value,
        }})
    }}

    fn stages(&self) -> Stages {{
        {stages}
    }}
{handlers}}}

wasmgate_plugin_sdk::export_plugin!({ty});
"#,
            name = self.name,
            ident = self.crate_ident(),
            stages = stage_flags.join(" | "),
        )
    }

    /// The lines that use each chosen capability, run at the first stage.
    fn capability_snippets(&self) -> Option<String> {
        if self.capabilities.is_empty() {
            return None;
        }
        let mut text = String::new();
        for capability in self.capabilities {
            text.push_str(&match capability {
                Capability::RateLimit => "        // rate-limit: at most 100 requests a second per client (bursts of 200), counted\n        // in the gateway's shared store, so the limit holds across instances.\n        let client = context.client_ip().unwrap_or_default();\n        if let Ok(decision) = rate_limit::check_bucket(&client, Bucket::per_second(100, 200), 1)\n            && !decision.allowed\n        {\n            return Action::json_error(context, 429, \"TOO_MANY_REQUESTS\", \"slow down\");\n        }\n".to_owned(),
                Capability::Kv => "        // kv: remember the last path seen, for a minute, in the gateway's shared store.\n        let _ = kv::set(\"last-path\", request.path().as_bytes(), Duration::from_secs(60));\n".to_owned(),
                Capability::Metrics => "        // metrics: the plugin's own counter, exported with the gateway's metrics.\n        let _ = metrics::counter_add(\"requests\", &[], 1);\n".to_owned(),
                Capability::Crypto => format!("        // crypto: digests and signature checks run natively in the host.\n        let digest = crypto::digest(DigestAlgorithm::Sha256, request.path().as_bytes());\n        let hex: String = digest.iter().map(|b| format!(\"{{b:02x}}\")).collect();\n        let _ = context.set(\"{}.path-sha256\", hex);\n", self.name),
            });
        }
        Some(text)
    }

    /// One stage's handler, starting with `snippets` when given.
    fn handler(&self, stage: Stage, snippets: Option<String>) -> String {
        let uses_request = snippets.as_deref().is_some_and(|s| s.contains("request."));
        let uses_context = snippets.as_deref().is_some_and(|s| s.contains("context"));
        let snippets = snippets.map(|s| s + "\n").unwrap_or_default();
        let request = if uses_request { "request" } else { "_request" };
        let context = if uses_context { "context" } else { "_context" };
        match stage {
            Stage::MethodRequest => format!(
                r#"
    /// Refuses requests without the header (401) or with another value (403), lets the others
    /// through.
    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {{
{snippets}        match request.header(&self.header) {{
            None => {{
                let message = format!("missing {{}} header", self.header);
                Action::json_error(context, 401, "UNAUTHORIZED", message)
            }}
            Some(value) if value != self.value.as_bytes() => {{
                let message = format!("wrong {{}} header", self.header);
                Action::json_error(context, 403, "FORBIDDEN", message)
            }}
            Some(_) => Action::Continue,
        }}
    }}
"#
            ),
            Stage::IntegrationRequest => format!(
                r#"
    /// Adds the header to the request the backend receives.
    fn on_integration_request(&self, request: &mut Request<'_>, {context}: &mut Context<'_>) -> Action {{
{snippets}        // Cannot fail: a valid name and value (checked in `init`), at a request stage.
        let _ = request.set_header(&self.header, &self.value);
        Action::Continue
    }}
"#
            ),
            Stage::IntegrationResponse | Stage::MethodResponse => {
                let (method, doc) = if stage == Stage::IntegrationResponse {
                    ("on_integration_response", "the backend's response")
                } else {
                    ("on_method_response", "the response the client receives")
                };
                format!(
                    r#"
    /// Adds the header to {doc}.
    fn {method}(
        &self,
        {request}: &Request<'_>,
        response: &mut Response<'_>,
        {context}: &mut Context<'_>,
    ) -> Action {{
{snippets}        // Cannot fail: a valid name and value (checked in `init`), at a response stage.
        let _ = response.set_header(&self.header, &self.value);
        Action::Continue
    }}
"#
                )
            }
            Stage::Log => String::new(),
        }
    }

    /// `tests/<name>.rs`: native tests on the SDK's fake host.
    pub(super) fn native_tests(&self) -> String {
        let ty = self.type_name();
        let header = self.header();
        let mut tests = String::new();
        let mut fakes = vec!["self", "FakeContext", "FakeRequest"];
        if self.has(Stage::MethodRequest) {
            tests.push_str(&format!(
                r#"
#[test]
fn refuses_a_request_without_the_header() {{
    let mut request = FakeRequest::new("GET", "/");
    let action = testing::method_request(&plugin(), &mut request, &mut FakeContext::new());
    assert_eq!(action.response().map(|r| r.status), Some(401));
}}

#[test]
fn refuses_a_request_with_another_value() {{
    let mut request = FakeRequest::new("GET", "/").header("{header}", "goodbye");
    let action = testing::method_request(&plugin(), &mut request, &mut FakeContext::new());
    assert_eq!(action.response().map(|r| r.status), Some(403));
}}

#[test]
fn lets_a_request_with_the_header_through() {{
    let mut request = FakeRequest::new("GET", "/").header("{header}", "hello");
    let action = testing::method_request(&plugin(), &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
}}
"#
            ));
        }
        if self.has(Stage::IntegrationRequest) {
            tests.push_str(&format!(
                r#"
#[test]
fn adds_the_header_to_the_backend_request() {{
    let mut request = FakeRequest::new("GET", "/");
    let action = testing::integration_request(&plugin(), &mut request, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
    assert_eq!(request.header_str("{header}"), Some("hello"));
}}
"#
            ));
        }
        for (stage, runner) in [
            (Stage::IntegrationResponse, "integration_response"),
            (Stage::MethodResponse, "method_response"),
        ] {
            if self.has(stage) {
                if !fakes.contains(&"FakeResponse") {
                    fakes.push("FakeResponse");
                }
                tests.push_str(&format!(
                    r#"
#[test]
fn adds_the_header_at_{runner}() {{
    let request = FakeRequest::new("GET", "/");
    let mut response = FakeResponse::new(200);
    let action = testing::{runner}(&plugin(), &request, &mut response, &mut FakeContext::new());
    assert_eq!(action, Action::Continue);
    assert_eq!(response.header_str("{header}"), Some("hello"));
}}
"#
                ));
            }
        }
        format!(
            r#"//! The plugin's logic against the SDK's fake host: `cargo test`.
//!
//! The fake host exists on native targets only, so these tests do too.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::json;
use wasmgate_plugin_sdk::Action;
use wasmgate_plugin_sdk::testing::{{{fakes}}};
use {ident}::{ty};

fn plugin() -> {ty} {{
    testing::init::<{ty}>(json!({{}})).expect("the default config is valid")
}}

#[test]
fn refuses_an_invalid_header_name() {{
    let refused = testing::init::<{ty}>(json!({{ "header": "not a header" }}));
    assert!(refused.is_err());
}}
{tests}"#,
            fakes = fakes.join(", "),
            ident = self.crate_ident(),
        )
    }

    /// `fixtures/basic.toml`: the same behaviour, run by `wasmgate plugin test` in the real host.
    pub(super) fn basic_fixture(&self) -> String {
        let header = self.header();
        let grants: Vec<String> = self
            .capabilities
            .iter()
            .map(|c| format!("{:?}", c.as_str()))
            .collect();
        let mut text = format!(
            r#"# Run with `wasmgate plugin test`: each case calls one stage of the compiled plugin in the
# real gateway host, with this config and these grants. The format is described in README.md.

grants = [{grants}]

[config]
header = "{header}"
value = "hello"
"#,
            grants = grants.join(", "),
        );
        if self.has(Stage::MethodRequest) {
            text.push_str(&format!(
                r#"
[[case]]
name = "refuses a request without the header"
stage = "method-request"
request = {{ method = "GET", path = "/hello" }}
[case.expect]
outcome = "respond"
status = 401
headers = {{ content-type = "application/json" }}
body_json = {{ message = "missing {header} header", type = "UNAUTHORIZED", requestId = "fixture-request" }}

[[case]]
name = "refuses a request with another value"
stage = "method-request"
request = {{ method = "GET", path = "/hello", headers = {{ {header} = "goodbye" }} }}
[case.expect]
outcome = "respond"
status = 403
body_json = {{ message = "wrong {header} header", type = "FORBIDDEN", requestId = "fixture-request" }}

[[case]]
name = "lets a request with the header through"
stage = "method-request"
request = {{ method = "GET", path = "/hello", headers = {{ {header} = "hello" }} }}
expect = {{ outcome = "continue" }}
"#
            ));
        }
        if self.has(Stage::IntegrationRequest) {
            text.push_str(&format!(
                r#"
[[case]]
name = "adds the header to the backend request"
stage = "integration-request"
request = {{ method = "GET", path = "/hello" }}
expect = {{ outcome = "continue", request = {{ headers = {{ {header} = "hello" }} }} }}
"#
            ));
        }
        for stage in [Stage::IntegrationResponse, Stage::MethodResponse] {
            if self.has(stage) {
                text.push_str(&format!(
                    r#"
[[case]]
name = "adds the header at {stage}"
stage = "{stage}"
response = {{ status = 200, body = "ok" }}
expect = {{ outcome = "continue", status = 200, headers = {{ {header} = "hello" }}, body = "ok" }}
"#
                ));
            }
        }
        text
    }

    /// `README.md`.
    pub(super) fn readme(&self) -> String {
        let stages: Vec<&str> = self.stages.iter().map(|s| s.name()).collect();
        let grants: Vec<String> = self
            .capabilities
            .iter()
            .map(|c| format!("{:?}", c.as_str()))
            .collect();
        format!(
            r#"# {name}

A wasmgate plugin running at: {stages}.

## Build, test, run

```sh
wasmgate plugin build        # → target/wasm32-wasip2/release/{ident}.wasm, its size and imports
wasmgate plugin test         # runs fixtures/*.toml against that .wasm in the real gateway host
cargo test                   # runs tests/*.rs natively, on the SDK's fake host
```

Use it in a gateway config:

```toml
[plugins.{name}]
path = "target/wasm32-wasip2/release/{ident}.wasm"
config = {{ header = "{header}", value = "hello" }}
grants = [{grants}]
```

A running gateway watches that file: after `wasmgate plugin build` it loads the new component
without a restart (a plugin that fails to load keeps the old one, and the gateway logs why).

This crate depends on the SDK by path, at the wasmgate checkout `wasmgate plugin new` was built
from (see `Cargo.toml`); if that checkout moves, update the path.

## Fixtures

Each `fixtures/*.toml` file configures the plugin once (`[config]`, `grants`) and runs its cases
in order (one in-memory store per file, so a rate limit counts across cases):

```toml
grants = []                        # capabilities granted (kv, rate-limit, metrics, crypto)
[config]                           # the plugin's config section
header = "{header}"

[[case]]
name = "refuses a request without the header"
stage = "method-request"           # integration-request, integration-response, method-response, log
request = {{ method = "GET", path = "/hello", query = "a=1", headers = {{ accept = "*/*" }}, body = "…", context = {{ "auth.principal" = "alice" }} }}
# response = {{ status = 200, headers = {{ … }}, body_json = {{ … }} }}   # for response stages

[case.expect]
outcome = "respond"                # or "continue"
status = 401
headers = {{ content-type = "application/json" }}
body_json = {{ message = "missing {header} header", type = "UNAUTHORIZED", requestId = "fixture-request" }}
# also: body (exact text), absent_headers, context, absent_context, and
#       request = {{ method, path, query, headers, absent_headers, body, body_json }}
```

Headers and context entries are matched as a subset. The context of every case holds
`gateway.request-id = "fixture-request"`, `gateway.route-id = "fixture-route"` and
`gateway.client-ip = "127.0.0.1"` unless the case sets them. `init_error = "text"` (instead of
cases) expects the config to be refused with a message containing that text.
"#,
            name = self.name,
            ident = self.crate_ident(),
            header = self.header(),
            stages = stages.join(", "),
            grants = grants.join(", "),
        )
    }
}
