//! Templates that only print values between literal text — `{"title": {{ body.title }}}`,
//! `{{ context['gateway.request-id'] }}` — rendered without the template engine.
//!
//! Most mappings are of that kind, and for them the engine's work is overhead: converting the
//! parsed body into its own value tree, running its VM, then parsing the rendered JSON again to
//! check it. A [`Plan`] is the template cut into text and lookups at load; rendering it is a
//! walk over the parsed body and a copy.
//!
//! A template with anything else in it (a filter, a tag, an expression, whitespace control)
//! gets no plan and is rendered by minijinja. A planned template whose value turns out missing,
//! or not printable as plain text, is rendered by minijinja too (from the same snapshot of the
//! request, [`Sources`]), so every output and every error stays the engine's.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use minijinja::Value;
use minijinja::value::Serde;
use wasmgate_plugin_sdk::{Context, Request, Response};

use crate::MappingError;

/// A variable a planned template reads: the template variables of the crate docs' table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Root {
    Body,
    Variables,
    Context,
    Path,
    Query,
    Headers,
    RequestHeaders,
    Method,
    RequestPath,
    Status,
}

impl Root {
    fn parse(name: &str) -> Option<Root> {
        Some(match name {
            "body" => Root::Body,
            "variables" => Root::Variables,
            "context" => Root::Context,
            "path" => Root::Path,
            "query" => Root::Query,
            "headers" => Root::Headers,
            "request_headers" => Root::RequestHeaders,
            "method" => Root::Method,
            "request_path" => Root::RequestPath,
            "status" => Root::Status,
            _ => return None,
        })
    }

    /// The variable's name in templates.
    fn name(self) -> &'static str {
        match self {
            Root::Body => "body",
            Root::Variables => "variables",
            Root::Context => "context",
            Root::Path => "path",
            Root::Query => "query",
            Root::Headers => "headers",
            Root::RequestHeaders => "request_headers",
            Root::Method => "method",
            Root::RequestPath => "request_path",
            Root::Status => "status",
        }
    }

    /// A map of text values read one key at a time (a host call or a lookup per key).
    fn is_text_map(self) -> bool {
        matches!(
            self,
            Root::Context | Root::Path | Root::Query | Root::Headers | Root::RequestHeaders
        )
    }

    /// Whether the variable exists on this side (request side: no `status`, no
    /// `request_headers`).
    fn on(self, side: Side) -> bool {
        side == Side::Response || !matches!(self, Root::Status | Root::RequestHeaders)
    }
}

/// Which stage a template is rendered at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
}

/// One step of a lookup: `.name`, `["name"]` or `[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `root` followed by attribute and index steps.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lookup {
    root: Root,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Print(Lookup),
}

/// A template cut into literal text and printed lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    segments: Vec<Segment>,
    /// Prints values as JSON (body templates); otherwise as plain text.
    json: bool,
}

impl Plan {
    /// The plan of `source`, or `None` when it uses more than text and `{{ lookup }}`. A JSON
    /// template is planned only when every print sits where a JSON value goes, so that any value
    /// printed there keeps the output JSON (it is then not parsed again per request); its
    /// leading and trailing whitespace is cut here, as the rendered text would be trimmed.
    pub(crate) fn new(source: &str, json: bool) -> Option<Plan> {
        // minijinja drops one trailing newline of a template.
        let source = source
            .strip_suffix("\r\n")
            .or_else(|| source.strip_suffix('\n'))
            .unwrap_or(source);
        let mut segments = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            push_text(&mut segments, &rest[..open])?;
            let after = &rest[open + 2..];
            let close = after.find("}}")?;
            segments.push(Segment::Print(parse_lookup(&after[..close])?));
            rest = &after[close + 2..];
        }
        push_text(&mut segments, rest)?;
        let mut plan = Plan { segments, json };
        if json {
            if !plan.keeps_json() {
                return None;
            }
            plan.trim();
        }
        Some(plan)
    }

    /// The variables and keys the plan reads.
    pub(crate) fn needs(&self, needs: &mut Needs) {
        for segment in &self.segments {
            if let Segment::Print(lookup) = segment {
                needs.roots.insert(lookup.root);
                if let (true, Some(Step::Key(key))) =
                    (lookup.root.is_text_map(), lookup.steps.first())
                {
                    needs.keys.insert((lookup.root, key.clone()));
                }
            }
        }
    }

    /// Whether every variable the plan reads exists on `side`.
    pub(crate) fn fits(&self, side: Side) -> bool {
        self.segments.iter().all(|segment| match segment {
            Segment::Print(lookup) => lookup.root.on(side),
            Segment::Text(_) => true,
        })
    }

    /// The rendered text, or `None` when a value is missing or cannot be printed here: then
    /// the template engine renders it (and fails the same way it always did).
    pub(crate) fn render(&self, sources: &Sources<'_>) -> Option<String> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Print(lookup) => {
                    let found = sources.find(lookup)?;
                    if self.json {
                        found.write_json(&mut out);
                    } else {
                        found.write_text(&mut out)?;
                    }
                }
            }
        }
        Some(out)
    }

    /// Whether the template stays JSON with a number and with a string at every print.
    fn keeps_json(&self) -> bool {
        ["0", "\"x\""].iter().all(|stand_in| {
            let text: String = self
                .segments
                .iter()
                .map(|segment| match segment {
                    Segment::Text(text) => text.as_str(),
                    Segment::Print(_) => stand_in,
                })
                .collect();
            serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok()
        })
    }

    fn trim(&mut self) {
        if let Some(Segment::Text(text)) = self.segments.first_mut() {
            *text = text.trim_start().to_owned();
        }
        if let Some(Segment::Text(text)) = self.segments.last_mut() {
            *text = text.trim_end().to_owned();
        }
        self.segments
            .retain(|segment| !matches!(segment, Segment::Text(text) if text.is_empty()));
    }
}

/// Adds literal text, refusing any other template syntax in it.
fn push_text(segments: &mut Vec<Segment>, text: &str) -> Option<()> {
    // A stray `}}` is text to minijinja too (`{"a": {"b": {{ body.b }}}}` ends in one).
    if text.contains("{%") || text.contains("{#") {
        return None;
    }
    if !text.is_empty() {
        segments.push(Segment::Text(text.to_owned()));
    }
    Some(())
}

/// Parses `root(.name | ["name"] | ['name'] | [0])*` with optional spaces around it.
fn parse_lookup(expression: &str) -> Option<Lookup> {
    let expression = expression.trim_matches(' ');
    let (first, mut rest) = split_identifier(expression)?;
    let root = Root::parse(first)?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let (name, tail) = split_identifier(after)?;
            steps.push(Step::Key(name.to_owned()));
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            steps.push(parse_subscript(after[..close].trim_matches(' '))?);
            rest = &after[close + 1..];
        } else {
            return None;
        }
    }
    // A map of text has one level; `context` alone prints the whole map.
    if root.is_text_map() && steps.len() != 1 {
        return None;
    }
    if matches!(root, Root::Method | Root::RequestPath | Root::Status) && !steps.is_empty() {
        return None;
    }
    // Header maps have lower-case names: `headers["X-A"]` is undefined, a host look-up would not be.
    if let (Root::Headers | Root::RequestHeaders, Some(Step::Key(name))) = (root, steps.first())
        && name.bytes().any(|byte| byte.is_ascii_uppercase())
    {
        return None;
    }
    Some(Lookup { root, steps })
}

/// `"name"`, `'name'` (no escapes) or a non-negative integer.
fn parse_subscript(inside: &str) -> Option<Step> {
    for quote in ['"', '\''] {
        if let Some(quoted) = inside.strip_prefix(quote) {
            let name = quoted.strip_suffix(quote)?;
            if name.contains(['\\', '"', '\'']) {
                return None;
            }
            return Some(Step::Key(name.to_owned()));
        }
    }
    if !inside.is_empty() && inside.bytes().all(|byte| byte.is_ascii_digit()) {
        return inside.parse().ok().map(Step::Index);
    }
    None
}

/// Splits a leading identifier (`[A-Za-z_][A-Za-z0-9_]*`) off `text`.
fn split_identifier(text: &str) -> Option<(&str, &str)> {
    let end = text
        .bytes()
        .position(|byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))
        .unwrap_or(text.len());
    let first = text.as_bytes().first()?;
    if end == 0 || first.is_ascii_digit() {
        return None;
    }
    Some(text.split_at(end))
}

/// What the plans of one side read: variables, and the keys of the text maps.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    roots: BTreeSet<Root>,
    keys: BTreeSet<(Root, String)>,
}

impl Needs {
    /// Whether the plans print the body.
    pub(crate) fn body(&self) -> bool {
        self.roots.contains(&Root::Body)
    }
}

/// The plans of one side, and what they read; `None` for a side with an unplanned template.
#[derive(Debug)]
pub(crate) struct SidePlans {
    pub(crate) plans: BTreeMap<String, Plan>,
    pub(crate) needs: Needs,
}

impl SidePlans {
    /// The plans of `templates` (`(name, source, json)`), when every one has a plan that fits
    /// `side`.
    pub(crate) fn new<'a>(
        side: Side,
        templates: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Option<SidePlans> {
        let mut plans = BTreeMap::new();
        let mut needs = Needs::default();
        for (name, source, json) in templates {
            let plan = Plan::new(source, json).filter(|plan| plan.fits(side))?;
            plan.needs(&mut needs);
            plans.insert(name.to_owned(), plan);
        }
        Some(SidePlans { plans, needs })
    }
}

/// `root → key → value` of the text maps a side's plans print.
type Texts = BTreeMap<Root, BTreeMap<String, String>>;

/// The snapshot of the request (and response) that planned templates read, taken before any
/// edit: only the variables and keys the plans need.
#[derive(Debug)]
pub(crate) struct Sources<'a> {
    /// The body parsed as JSON; `None` when not read, `Some(None)` when not JSON.
    body: Option<Option<serde_json::Value>>,
    variables: &'a serde_json::Value,
    /// `(root, key) → value` of the text maps; a missing entry is an undefined key.
    texts: Texts,
    method: Option<String>,
    request_path: Option<String>,
    status: Option<u16>,
}

impl<'a> Sources<'a> {
    /// Reads what `needs` asks of the request side.
    pub(crate) fn request(
        needs: &Needs,
        variables: &'a serde_json::Value,
        request: &Request<'_>,
        context: &Context<'_>,
        read_body: bool,
    ) -> Result<Self, MappingError> {
        let body = parsed_body(needs, read_body, "request", || request.body())?;
        let texts = read_texts(needs, request, context, |name| {
            request.header(name).map(lossy)
        });
        Ok(Self::common(needs, variables, body, texts, request, None))
    }

    /// Reads what `needs` asks of the response side.
    pub(crate) fn response(
        needs: &Needs,
        variables: &'a serde_json::Value,
        request: &Request<'_>,
        response: &Response<'_>,
        context: &Context<'_>,
        read_body: bool,
    ) -> Result<Self, MappingError> {
        let body = parsed_body(needs, read_body, "response", || response.body())?;
        let texts = read_texts(needs, request, context, |name| {
            response.header(name).map(lossy)
        });
        let status = needs
            .roots
            .contains(&Root::Status)
            .then(|| response.status());
        Ok(Self::common(needs, variables, body, texts, request, status))
    }

    fn common(
        needs: &Needs,
        variables: &'a serde_json::Value,
        body: Option<Option<serde_json::Value>>,
        texts: Texts,
        request: &Request<'_>,
        status: Option<u16>,
    ) -> Self {
        Sources {
            body,
            variables,
            texts,
            method: needs
                .roots
                .contains(&Root::Method)
                .then(|| request.method()),
            request_path: needs
                .roots
                .contains(&Root::RequestPath)
                .then(|| request.path()),
            status,
        }
    }

    fn find(&self, lookup: &Lookup) -> Option<Found<'_>> {
        let json = match lookup.root {
            Root::Body => self.body.as_ref()?.as_ref()?,
            Root::Variables => self.variables,
            Root::Method => return self.method.as_deref().map(Found::Text),
            Root::RequestPath => return self.request_path.as_deref().map(Found::Text),
            Root::Status => return self.status.map(Found::Status),
            root => {
                let Some(Step::Key(key)) = lookup.steps.first() else {
                    return None;
                };
                return self
                    .texts
                    .get(&root)?
                    .get(key)
                    .map(|text| Found::Text(text));
            }
        };
        let mut value = json;
        for step in &lookup.steps {
            value = match (step, value) {
                (Step::Key(key), serde_json::Value::Object(map)) => map.get(key)?,
                (Step::Index(index), serde_json::Value::Array(items)) => items.get(*index)?,
                _ => return None,
            };
        }
        Some(Found::Json(value))
    }

    /// The template variables of the snapshot, for the engine to render a planned template its
    /// plan could not.
    pub(crate) fn to_value(&self, variables: &Value) -> Value {
        let mut maps: BTreeMap<&'static str, BTreeMap<String, String>> = [
            Root::Context,
            Root::Path,
            Root::Query,
            Root::Headers,
            Root::RequestHeaders,
        ]
        .into_iter()
        .map(|root| (root.name(), BTreeMap::new()))
        .collect();
        for (root, texts) in &self.texts {
            maps.insert(root.name(), texts.clone());
        }
        let mut vars: BTreeMap<&'static str, Value> = maps
            .into_iter()
            .map(|(name, map)| (name, Value::from(map)))
            .collect();
        if let Some(body) = &self.body {
            let body = body
                .as_ref()
                .map_or(Value::from(()), |json| Value::from(Serde(json.clone())));
            vars.insert(Root::Body.name(), body);
        }
        vars.insert(Root::Variables.name(), variables.clone());
        if let Some(method) = &self.method {
            vars.insert(Root::Method.name(), Value::from(method.as_str()));
        }
        if let Some(path) = &self.request_path {
            vars.insert(Root::RequestPath.name(), Value::from(path.as_str()));
        }
        if let Some(status) = self.status {
            vars.insert(Root::Status.name(), Value::from(status));
        }
        Value::from(vars)
    }
}

/// The body parsed as JSON when the plans print it (`Some(None)`: not JSON), else `None`.
fn parsed_body<E: std::fmt::Display>(
    needs: &Needs,
    read_body: bool,
    which: &str,
    body: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<Option<Option<serde_json::Value>>, MappingError> {
    if !(read_body && needs.body()) {
        return Ok(None);
    }
    let body = body().map_err(|err| MappingError(format!("the {which} body: {err}")))?;
    Ok(Some(serde_json::from_slice(&body).ok()))
}

/// The values of the text-map keys `needs` names.
fn read_texts(
    needs: &Needs,
    request: &Request<'_>,
    context: &Context<'_>,
    header: impl Fn(&str) -> Option<String>,
) -> Texts {
    let mut query: Option<BTreeMap<String, String>> = None;
    let mut texts = BTreeMap::new();
    for (root, key) in &needs.keys {
        let value = match root {
            Root::Context => context.get(key),
            Root::Path => request.path_param(key),
            Root::Query => query
                .get_or_insert_with(|| first_query_values(request.query().as_deref()))
                .get(key)
                .cloned(),
            Root::Headers => header(key),
            Root::RequestHeaders => request.header(key).map(lossy),
            _ => None,
        };
        if let Some(value) = value {
            texts
                .entry(*root)
                .or_insert_with(BTreeMap::new)
                .insert(key.clone(), value);
        }
    }
    texts
}

/// `name → first value` of a raw query.
pub(crate) fn first_query_values(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut query = BTreeMap::new();
    if let Some(raw) = raw {
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            query
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    query
}

fn lossy(value: Vec<u8>) -> String {
    String::from_utf8(value)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

/// A value a lookup found.
enum Found<'a> {
    Json(&'a serde_json::Value),
    Text(&'a str),
    Status(u16),
}

impl Found<'_> {
    /// Prints the value as JSON, as the engine's JSON escaping does (compact, the same string
    /// escapes).
    fn write_json(&self, out: &mut String) {
        let written = match self {
            Found::Json(value) => serde_json::to_string(value),
            Found::Text(text) => serde_json::to_string(text),
            Found::Status(status) => Ok(status.to_string()),
        };
        // Serialising a JSON value or a string cannot fail.
        out.push_str(&written.unwrap_or_default());
    }

    /// Prints the value as text: strings and integers print as the engine prints them;
    /// anything else (booleans print `True`, lists as Python would) is left to the engine.
    fn write_text(&self, out: &mut String) -> Option<()> {
        match self {
            Found::Text(text) => out.push_str(text),
            Found::Json(serde_json::Value::String(text)) => out.push_str(text),
            Found::Status(status) => {
                let _ = write!(out, "{status}");
            }
            Found::Json(serde_json::Value::Number(number))
                if number.is_i64() || number.is_u64() =>
            {
                let _ = write!(out, "{number}");
            }
            Found::Json(_) => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(root: Root, steps: &[Step]) -> Segment {
        Segment::Print(Lookup {
            root,
            steps: steps.to_vec(),
        })
    }

    #[test]
    fn cuts_json_templates_into_text_and_lookups() {
        let plan = Plan::new(
            "  {\"t\": {{ body.title }}, \"a\": {{body['x y'][2].name}}, \"r\": {{ context[\"gateway.request-id\"] }}}\n",
            true,
        )
        .expect("planned");
        assert_eq!(
            plan.segments,
            vec![
                Segment::Text("{\"t\": ".into()),
                lookup(Root::Body, &[Step::Key("title".into())]),
                Segment::Text(", \"a\": ".into()),
                lookup(
                    Root::Body,
                    &[
                        Step::Key("x y".into()),
                        Step::Index(2),
                        Step::Key("name".into())
                    ]
                ),
                Segment::Text(", \"r\": ".into()),
                lookup(Root::Context, &[Step::Key("gateway.request-id".into())]),
                Segment::Text("}".into()),
            ]
        );
    }

    #[test]
    fn leaves_everything_else_to_the_engine() {
        for source in [
            "{{ body.title | upper }}",
            "{{ \"book-\" ~ path.id }}",
            "{% if body %}1{% endif %}",
            "{# note #}x",
            "{{- body.title }}",
            "{{ unknown.x }}",
            "{{ context }}",
            "{{ headers['X-Upper'] }}",
            "{{ method.x }}",
            "{{ body[-1] }}",
            "{{ body['a\\'b'] }}",
            "{{ body.title }",
        ] {
            assert_eq!(Plan::new(source, false), None, "{source}");
        }
    }

    #[test]
    fn plans_json_templates_only_when_every_print_is_a_value() {
        assert!(Plan::new("{\"a\": {{ body.a }}, \"b\": [{{ body.b }}]}", true).is_some());
        assert!(Plan::new("{{ body }}", true).is_some());
        assert!(Plan::new("{\"a\": {\"b\": {{ body.b }}}}", true).is_some());
        // Inside a string, or as a key, a printed value would not make JSON.
        assert!(Plan::new("{\"a\": \"x{{ body.a }}\"}", true).is_none());
        assert!(Plan::new("{ {{ body.a }}: 1 }", true).is_none());
        assert!(Plan::new("{\"a\": {{ body.a }}", true).is_none());
    }
}
