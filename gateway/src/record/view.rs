//! The exchange as a recording shows it: plain JSON a person can read and a patch can address
//! (`/request/headers/accept`, `/context/auth.principal`), captured with secrets redacted, and
//! turned back into an [`Exchange`] for replay.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::redact::Redactor;
use crate::exchange::{ContextBag, Exchange, RequestState, ResponseState};

/// What plugins see of one exchange at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeView {
    /// The request.
    pub request: RequestView,
    /// The response, on the response side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseView>,
    /// The context bag.
    pub context: BTreeMap<String, String>,
}

/// The request plugins see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    /// The method.
    pub method: String,
    /// The path (percent-encoded, no query).
    pub path: String,
    /// The raw query, without `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The headers.
    pub headers: HeadersView,
    /// What the route template captured, in template order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_params: Vec<(String, String)>,
    /// The body, when the route's plugins read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyView>,
}

/// The response plugins see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseView {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeadersView,
    /// The body, when the route's plugins read it (or a plugin or mock wrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyView>,
}

/// Headers by name (lower-case), each with its value or, when repeated, its values in order.
pub type HeadersView = BTreeMap<String, HeaderValues>;

/// One header's value, or a repeated header's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    /// Sent once.
    One(String),
    /// Sent several times, in order.
    Many(Vec<String>),
}

/// A body: text when it is UTF-8, base64 otherwise, or only its size when it was larger than
/// `[record] max_body_bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyView {
    /// A UTF-8 body.
    Text(String),
    /// Any other body, in standard base64.
    Base64(String),
    /// A body left out of the recording: its size in bytes.
    Omitted(usize),
}

impl ExchangeView {
    /// What `exchange` shows now, redacted by `redactor` (which learns the secrets it holds
    /// first), with bodies over `max_body_bytes` left out.
    pub fn capture(exchange: &Exchange, redactor: &mut Redactor, max_body_bytes: usize) -> Self {
        let request = &exchange.request;
        redactor.learn(&request.headers, request.query.as_deref());
        let response = exchange.response.as_ref();
        if let Some(response) = response {
            redactor.learn(&response.headers, None);
        }
        let redactor = &*redactor;
        ExchangeView {
            request: RequestView {
                method: request.method.as_str().to_owned(),
                path: redactor.value(&request.path),
                query: request.query.as_deref().map(|q| redactor.query(q)),
                headers: headers_view(&request.headers, redactor),
                path_params: request
                    .path_params
                    .iter()
                    .map(|(name, value)| (name.clone(), redactor.value(value)))
                    .collect(),
                body: body_view(request.body.as_ref(), max_body_bytes),
            },
            response: response.map(|r| ResponseView::view(r, redactor, max_body_bytes)),
            context: exchange
                .context
                .iter()
                .map(|(k, v)| (k.to_owned(), redactor.value(v)))
                .collect(),
        }
    }

    /// The exchange this view shows (`Err`: a value that is not valid HTTP, or a body left
    /// out, naming it).
    pub fn to_exchange(&self) -> Result<Exchange, String> {
        let request = &self.request;
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("invalid method {:?}", request.method))?;
        let mut context = ContextBag::default();
        for (key, value) in &self.context {
            context.insert(key.as_str(), value.as_str());
        }
        Ok(Exchange {
            request: RequestState {
                method,
                path: request.path.clone(),
                query: request.query.clone(),
                headers: header_map(&request.headers)?,
                path_params: request.path_params.clone(),
                body: body_bytes(request.body.as_ref(), "the request body")?,
                body_replaced: false,
            },
            response: self
                .response
                .as_ref()
                .map(ResponseView::to_state)
                .transpose()?,
            context,
            plugin_time: Default::default(),
        })
    }
}

impl ResponseView {
    /// What `response` shows, as [`ExchangeView::capture`] does.
    pub fn capture(
        response: &ResponseState,
        redactor: &mut Redactor,
        max_body_bytes: usize,
    ) -> Self {
        redactor.learn(&response.headers, None);
        Self::view(response, redactor, max_body_bytes)
    }

    fn view(response: &ResponseState, redactor: &Redactor, max_body_bytes: usize) -> Self {
        ResponseView {
            status: response.status.as_u16(),
            headers: headers_view(&response.headers, redactor),
            body: body_view(response.body.as_ref(), max_body_bytes),
        }
    }

    /// The response this view shows.
    pub fn to_state(&self) -> Result<ResponseState, String> {
        Ok(ResponseState {
            status: StatusCode::from_u16(self.status)
                .map_err(|_| format!("invalid status {}", self.status))?,
            headers: header_map(&self.headers)?,
            body: body_bytes(self.body.as_ref(), "the response body")?,
            body_replaced: false,
        })
    }
}

fn headers_view(headers: &HeaderMap, redactor: &Redactor) -> HeadersView {
    let mut view = HeadersView::new();
    for name in headers.keys() {
        let mut values = headers
            .get_all(name)
            .iter()
            .map(|value| redactor.header(name.as_str(), value.as_bytes()));
        let first = values.next().unwrap_or_default();
        let entry = match values.next() {
            None => HeaderValues::One(first),
            Some(second) => HeaderValues::Many([first, second].into_iter().chain(values).collect()),
        };
        view.insert(name.as_str().to_owned(), entry);
    }
    view
}

fn header_map(view: &HeadersView) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, values) in view {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let values = match values {
            HeaderValues::One(value) => std::slice::from_ref(value),
            HeaderValues::Many(values) => values.as_slice(),
        };
        for value in values {
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| format!("invalid value {value:?} of header {name}"))?;
            map.append(name.clone(), value);
        }
    }
    Ok(map)
}

fn body_view(body: Option<&Bytes>, max_body_bytes: usize) -> Option<BodyView> {
    let body = body?;
    Some(if body.len() > max_body_bytes {
        BodyView::Omitted(body.len())
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => BodyView::Text(text.to_owned()),
            Err(_) => BodyView::Base64(BASE64.encode(body)),
        }
    })
}

fn body_bytes(view: Option<&BodyView>, what: &str) -> Result<Option<Bytes>, String> {
    match view {
        None => Ok(None),
        Some(BodyView::Text(text)) => Ok(Some(Bytes::copy_from_slice(text.as_bytes()))),
        Some(BodyView::Base64(encoded)) => BASE64
            .decode(encoded)
            .map(|bytes| Some(bytes.into()))
            .map_err(|e| format!("{what} is not valid base64: {e}")),
        Some(BodyView::Omitted(size)) => Err(format!(
            "{what} ({size} bytes) was larger than `[record] max_body_bytes` and not recorded"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::redact::{REDACTED, Redaction};

    #[test]
    fn a_view_turns_back_into_the_exchange_it_shows() {
        let mut exchange = Exchange::default();
        exchange.request.method = Method::POST;
        exchange.request.path = "/v1/books".into();
        exchange.request.query = Some("page=2".into());
        let headers = &mut exchange.request.headers;
        headers.append("accept", HeaderValue::from_static("application/json"));
        headers.append("x-many", HeaderValue::from_static("a"));
        headers.append("x-many", HeaderValue::from_static("b"));
        exchange.request.body = Some(Bytes::from_static(&[0xff, 0x00, 0x41]));
        exchange.context.insert("auth.principal", "alice");
        exchange.response = Some(ResponseState {
            status: StatusCode::CREATED,
            body: Some(Bytes::from_static(b"{\"id\":1}")),
            ..Default::default()
        });
        let view = ExchangeView::capture(&exchange, &mut Redactor::new(Default::default()), 1024);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json["request"]["headers"]["x-many"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            json["request"]["body"],
            serde_json::json!({ "base64": "/wBB" })
        );
        let back: ExchangeView = serde_json::from_value(json).unwrap();
        let rebuilt = back.to_exchange().unwrap();
        let redactor = &mut Redactor::new(Redaction::default());
        assert_eq!(ExchangeView::capture(&rebuilt, redactor, 1024), view);
    }

    #[test]
    fn redacted_headers_and_large_bodies_stay_out() {
        let mut exchange = Exchange::default();
        let headers = &mut exchange.request.headers;
        headers.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        exchange.request.body = Some(Bytes::from_static(b"0123456789"));
        let redaction = Redaction::new(&[http::header::AUTHORIZATION], &[]);
        let view = ExchangeView::capture(&exchange, &mut Redactor::new(redaction), 4);
        assert_eq!(
            view.request.headers["authorization"],
            HeaderValues::One(REDACTED.into())
        );
        assert_eq!(view.request.body, Some(BodyView::Omitted(10)));
        let error = view.to_exchange().unwrap_err();
        assert!(error.contains("10 bytes"), "{error}");
    }
}
