//! `mapper`: reshapes the backend call at the integration-request stage and the backend's answer
//! at the integration-response stage (think API Gateway's mapping templates), with
//! [minijinja](https://docs.rs/minijinja) templates compiled once at load.
//!
//! ```toml
//! [plugins.books-mapper]
//! path = "target/plugins/mapper.wasm"
//! [plugins.books-mapper.config]
//! variables = { table = "books", page_size = 20 }          # stage variables: `variables.*`
//!
//! [plugins.books-mapper.config.request]
//! method = "POST"                                           # GET /books → POST to the table API
//! path = "/_table/scan"                                     # a template: "/items/{{ path.id | urlencode }}"
//! query = { set = { consistent = "true" }, rename = { q = "filter" }, remove = ["debug"] }
//! headers = { set = { x-table = "{{ variables.table }}", x-request-id = "{{ context['gateway.request-id'] }}" }, remove = ["cookie"] }
//! body = '''{"TableName": {{ variables.table }}, "Limit": {{ query.limit | default(variables.page_size) | int }}}'''
//!
//! [plugins.books-mapper.config.response]
//! headers = { remove = ["x-amz-request-id"] }               # on every response
//! [[plugins.books-mapper.config.response.rules]]            # first match wins
//! backend_status = "2\\d\\d"                                # a regex the whole status matches
//! body = '''{"books": [{% for item in body.Items %}{"id": {{ item.id.S }}, "title": {{ item.title.S }}}{% if not loop.last %}, {% endif %}{% endfor %}], "count": {{ body.Count }}}'''
//! [[plugins.books-mapper.config.response.rules]]
//! backend_status = "5\\d\\d"
//! status = 502                                              # the client's status
//! body = '''{"message": "the book store is unavailable", "type": "BACKEND_ERROR", "requestId": {{ context["gateway.request-id"] }}}'''
//! ```
//!
//! # Templates
//!
//! Each template sees these variables (request side / response side):
//!
//! | variable          | request side                          | response side                    |
//! |-------------------|---------------------------------------|----------------------------------|
//! | `body`            | the request body parsed as JSON       | the backend's body as JSON       |
//! | `raw_body`        | the request body as text              | the backend's body as text       |
//! | `headers`         | request headers (first value)         | the backend's response headers   |
//! | `status`          | —                                     | the backend's status             |
//! | `request_headers` | —                                     | the request headers              |
//! | `method`, `request_path`, `path` (path parameters), `query` (first values), `context` (the request context: `context["gateway.request-id"]`, authorizer claims, API key id), `variables` | both | both |
//!
//! `body` is `none` when the body is empty or not JSON (put the `validator` plugin first to
//! refuse malformed JSON with a 400). JSON paths are minijinja attribute and index lookups on
//! `body` — `body.items[0].name`, `body["odd key"]`, loops and filters (`length`, `map`,
//! `selectattr`, `int`, `default`, …) — with no extra JSON-path language. Header names are
//! lower-case, so write `headers["x-api-key"]`.
//!
//! Body templates (`request.body`, `response.rules[].body`) **write JSON**: every `{{ … }}`
//! prints its value as JSON (`{{ body.title }}` → `"Dune"`, `{{ body.tags }}` → `["a","b"]`),
//! so build strings inside the expression: `{{ "book-" ~ path.id }}`. The output must parse as
//! JSON; it is sent compact with `content-type: application/json`. The other templates (path,
//! query and header values) print plain text; `urlencode` a value put in a path.
//!
//! Templates are compiled when the plugin starts: a syntax error fails the load, naming the key
//! (`request.body`, `response.rules[1].body`, …). At run time an undefined variable, a failed
//! filter, a body template that renders invalid JSON or a refused edit answers `500
//! MAPPING_FAILURE` in the gateway's error shape, with the reason in the gateway log (error
//! level, field `reason`); the backend's raw answer never reaches the client then. Loops are
//! bounded (a render that runs away fails the same way).
//!
//! # Order
//!
//! Request: method, path, query (remove, rename, set), headers (remove, rename, set), body — every
//! template sees the request as the client sent it. Response: the first matching rule's body is
//! rendered (seeing the backend's status), then its status is set, then the `response.headers`
//! edits run. Bodies are read only when a template uses `body` or `raw_body`.

mod config;
mod edit;
mod plan;
mod vars;

use wasmgate_plugin_sdk::errors::plugins::MAPPING_FAILURE;
use wasmgate_plugin_sdk::{
    Action, BodyAccess, Context, InitError, Plugin, Request, Response, Stages, log,
};

use config::Rules;
pub use config::{Config, EditsSpec, RequestSpec, ResponseSpec, RuleSpec};

/// The `mapper` plugin.
#[derive(Debug)]
pub struct Mapper {
    rules: Rules,
    stages: Stages,
    body_access: BodyAccess,
}

/// Why a mapping failed: the message for the log.
#[derive(Debug)]
pub(crate) struct MappingError(pub(crate) String);

impl Plugin for Mapper {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        let rules = Rules::try_from(config)?;
        let request_templates = rules
            .path
            .iter()
            .chain(rules.body.iter())
            .chain(rules.query.set.iter().map(|(_, t)| t))
            .chain(rules.headers.set.iter().map(|(_, t)| t));
        let response_templates = rules
            .rules
            .iter()
            .filter_map(|rule| rule.body.as_ref())
            .chain(rules.response_headers.set.iter().map(|(_, t)| t));
        let mut body_access = BodyAccess::NONE;
        if uses_body(&rules, request_templates) {
            body_access |= BodyAccess::REQUEST;
        }
        if uses_body(&rules, response_templates) {
            body_access |= BodyAccess::RESPONSE;
        }
        let mut stages = Stages::NONE;
        if rules.method.is_some()
            || rules.path.is_some()
            || rules.body.is_some()
            || !rules.query.is_empty()
            || !rules.headers.is_empty()
        {
            stages |= Stages::INTEGRATION_REQUEST;
        }
        if !rules.rules.is_empty() || !rules.response_headers.is_empty() {
            stages |= Stages::INTEGRATION_RESPONSE;
        }
        Ok(Mapper {
            rules,
            stages,
            body_access,
        })
    }

    fn stages(&self) -> Stages {
        self.stages
    }

    fn body_access(&self) -> BodyAccess {
        self.body_access
    }

    fn on_integration_request(
        &self,
        request: &mut Request<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let read_body = self.body_access.contains(BodyAccess::REQUEST);
        let result = vars::for_request(&self.rules, request, context, read_body)
            .and_then(|vars| edit::request(&self.rules, request, &vars));
        failure(context, result)
    }

    fn on_integration_response(
        &self,
        request: &Request<'_>,
        response: &mut Response<'_>,
        context: &mut Context<'_>,
    ) -> Action {
        let status = response.status();
        let rule = self.rules.rules.iter().find(|rule| {
            rule.backend_status
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(&status.to_string()))
        });
        if rule.is_none() && self.rules.response_headers.is_empty() {
            return Action::Continue;
        }
        let read_body = self.body_access.contains(BodyAccess::RESPONSE);
        let result = vars::for_response(&self.rules, request, response, context, read_body)
            .and_then(|vars| edit::response(&self.rules, rule, response, &vars));
        failure(context, result)
    }
}

wasmgate_plugin_sdk::export_plugin!(Mapper);

/// Whether any of `templates` reads `body` or `raw_body`.
fn uses_body<'a>(rules: &Rules, mut templates: impl Iterator<Item = &'a String>) -> bool {
    templates.any(|name| {
        rules.env.get_template(name).is_ok_and(|template| {
            let used = template.undeclared_variables(false);
            used.contains("body") || used.contains("raw_body")
        })
    })
}

/// `Continue`, or a 500 `MAPPING_FAILURE` with the reason in the log.
fn failure(context: &Context<'_>, result: Result<(), MappingError>) -> Action {
    match result {
        Ok(()) => Action::Continue,
        Err(MappingError(reason)) => {
            log::error("mapping failed", &[("reason", reason.as_str())]);
            Action::error(
                context,
                MAPPING_FAILURE,
                "the gateway could not map this request",
            )
        }
    }
}
