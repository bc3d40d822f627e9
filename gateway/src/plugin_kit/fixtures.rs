//! The fixture format `wasmgate plugin test` reads: one TOML file per plugin configuration,
//! with the cases to run against it. Surface types only; [`super::run`] runs them in the real
//! plugin host.
//!
//! ```toml
//! # fixtures/basic.toml
//! grants = ["kv"]                    # capabilities granted to the plugin (default: none)
//!
//! [config]                           # the plugin's `config` section, as in the gateway config
//! header = "x-api-key"
//!
//! [[case]]
//! name = "rejects a request without a key"
//! stage = "method-request"           # or integration-request, integration-response,
//!                                    # method-response, log
//! request = { method = "GET", path = "/v1/hello", headers = { accept = "*/*" } }
//! expect = { outcome = "respond", status = 401, body_json = { type = "UNAUTHORIZED" } }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// One fixture file: a plugin configuration and the cases run against it, in order, by one
/// configured plugin with one in-memory store (so a rate limit counts across the cases).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureFile {
    /// `grants = ["kv", "rate-limit"]`: the capabilities granted to the plugin (default: none).
    #[serde(default)]
    pub grants: Vec<String>,
    /// `[config]`: the plugin's config section (default: `{}`).
    #[serde(default)]
    pub config: Option<toml::Table>,
    /// `init_error = "text"`: the config must be refused at load with a message containing
    /// this text (then the file has no cases).
    pub init_error: Option<String>,
    /// `[[case]]`: the cases, run in order.
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

/// One call of one stage and what it must do.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `name = "rejects a request without a key"`: says what the case shows.
    pub name: String,
    /// `stage = "method-request"`: the stage called.
    pub stage: String,
    /// `[case.request]`: the request the plugin sees (default: `GET /`).
    #[serde(default)]
    pub request: RequestSpec,
    /// `[case.response]`: the response a response-side stage sees (default: 200, no headers,
    /// empty body). Only for `integration-response`, `method-response` and `log`.
    pub response: Option<ResponseSpec>,
    /// `[case.expect]`: what the plugin must do.
    pub expect: Expect,
}

/// A request as the plugin sees it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `method = "POST"` (default `GET`).
    #[serde(default = "default_method")]
    pub method: String,
    /// `path = "/v1/books/42"` (default `/`), percent-encoded, without the query.
    #[serde(default = "default_path")]
    pub path: String,
    /// `query = "page=2&q=dune"`: the raw query, without `?`.
    pub query: Option<String>,
    /// `headers = { accept = "application/json", x-many = ["a", "b"] }`.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    /// `path_params = { id = "42" }`: what the route template captured (in key order).
    #[serde(default)]
    pub path_params: BTreeMap<String, String>,
    /// `body = "text"`: the body, verbatim.
    pub body: Option<String>,
    /// `body_json = { title = "Dune" }`: the body, as JSON (instead of `body`).
    pub body_json: Option<toml::Value>,
    /// `context = { "auth.principal" = "alice" }`: context entries set by earlier plugins
    /// (added to the gateway's own: see [`super::run::REQUEST_ID`]).
    #[serde(default)]
    pub context: BTreeMap<String, String>,
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec {
            method: default_method(),
            path: default_path(),
            query: None,
            headers: BTreeMap::new(),
            path_params: BTreeMap::new(),
            body: None,
            body_json: None,
            context: BTreeMap::new(),
        }
    }
}

fn default_method() -> String {
    "GET".into()
}

fn default_path() -> String {
    "/".into()
}

/// A response as a response-side stage sees it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// `status = 200` (default 200).
    #[serde(default = "default_status")]
    pub status: u16,
    /// `headers = { content-type = "application/json" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    /// `body = "text"`.
    pub body: Option<String>,
    /// `body_json = { id = 1 }` (instead of `body`).
    pub body_json: Option<toml::Value>,
}

fn default_status() -> u16 {
    200
}

/// One header value, or all of a repeated header's values in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    /// `name = "value"`.
    One(String),
    /// `name = ["a", "b"]`.
    Many(Vec<String>),
}

impl HeaderValues {
    /// The values, in order.
    pub fn values(&self) -> Vec<&str> {
        match self {
            HeaderValues::One(value) => vec![value.as_str()],
            HeaderValues::Many(values) => values.iter().map(String::as_str).collect(),
        }
    }
}

/// The outcome a case expects, and what must hold after the call. Every check is optional
/// except `outcome`; headers and context entries are a subset match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `outcome = "continue"` or `"respond"`.
    pub outcome: Outcome,
    /// `status = 401`: of the plugin's response (`respond`), or of the response after the
    /// stage's edits (`continue` at a response stage).
    pub status: Option<u16>,
    /// `headers = { content-type = "application/json" }`: headers that response must have,
    /// with exactly these values (others may be present too).
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    /// `absent_headers = ["server"]`: headers that response must not have.
    #[serde(default)]
    pub absent_headers: Vec<String>,
    /// `body = "text"`: that response's exact body.
    pub body: Option<String>,
    /// `body_json = { type = "UNAUTHORIZED" }`: that response's body, compared as JSON.
    pub body_json: Option<toml::Value>,
    /// `context = { "auth.principal" = "alice" }`: entries the context must hold afterwards.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// `absent_context = ["auth.principal"]`: keys the context must not hold afterwards.
    #[serde(default)]
    pub absent_context: Vec<String>,
    /// `[case.expect.request]`: the request after the stage's edits (`continue`).
    pub request: Option<ExpectRequest>,
}

/// What the (possibly edited) request must look like after the call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRequest {
    /// `method = "POST"`.
    pub method: Option<String>,
    /// `path = "/tables/books"`.
    pub path: Option<String>,
    /// `query = "a=1"` (`""`: no query).
    pub query: Option<String>,
    /// `headers = { x-principal = "alice" }`: a subset, with exactly these values.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    /// `absent_headers = ["authorization"]`.
    #[serde(default)]
    pub absent_headers: Vec<String>,
    /// `body = "text"`.
    pub body: Option<String>,
    /// `body_json = { … }`.
    pub body_json: Option<toml::Value>,
}

/// What the plugin decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Go on with the chain.
    Continue,
    /// Answer with its own response.
    Respond,
}

impl Outcome {
    /// `continue` or `respond`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Continue => "continue",
            Outcome::Respond => "respond",
        }
    }
}

/// Parses a fixture file's text (`file` names it in errors).
pub fn parse(text: &str) -> Result<FixtureFile, String> {
    toml::from_str(text).map_err(|error| error.to_string())
}

/// A TOML value as JSON (a plugin's config, a JSON body).
pub(crate) fn to_json(value: &toml::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_fixture_with_every_part() {
        let file = parse(
            r#"
            grants = ["kv"]
            [config]
            header = "x-key"
            [[case]]
            name = "answers"
            stage = "method-request"
            request = { method = "POST", headers = { a = "1", b = ["2", "3"] }, body_json = { x = 1 } }
            expect = { outcome = "respond", status = 401, body_json = { type = "UNAUTHORIZED" } }
            "#,
        )
        .unwrap();
        assert_eq!(file.grants, ["kv"]);
        assert_eq!(file.cases[0].request.method, "POST");
        assert_eq!(file.cases[0].request.headers["b"].values(), ["2", "3"]);
        assert_eq!(file.cases[0].expect.outcome, Outcome::Respond);
        let body = to_json(file.cases[0].request.body_json.as_ref().unwrap());
        assert_eq!(body, serde_json::json!({ "x": 1 }));
    }

    #[test]
    fn refuses_an_unknown_key_naming_it() {
        let error = parse("[[case]]\nname = \"x\"\nstage = \"log\"\nexpect = { outcome = \"continue\", staus = 1 }\n")
            .unwrap_err();
        assert!(error.contains("staus"), "{error}");
    }
}
