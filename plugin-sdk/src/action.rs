//! What a plugin decides at a stage: [`Action`], and the [`ResponseData`] it may answer with.

use std::fmt;

use crate::Context;
use crate::errors::{self, ErrorBody, ErrorType};

/// What a plugin decides at a request- or response-side stage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Action {
    /// Go on to the next plugin, keeping any edits made through the handles.
    Continue,
    /// Stop the chain and answer the client with this response. At the request-side stages the
    /// backend is not called; at the response-side stages it replaces the response.
    Respond(ResponseData),
}

impl Action {
    /// Answers with a JSON error in the shape of the gateway's own error responses, see
    /// [`ResponseData::json_error`].
    ///
    /// ```
    /// # use wasmgate_plugin_sdk::{Action, Context};
    /// # fn check(context: &Context<'_>) -> Action {
    /// Action::json_error(context, 401, "UNAUTHORIZED", "missing x-api-key header")
    /// # }
    /// ```
    pub fn json_error(
        context: &Context<'_>,
        status: u16,
        error_type: &str,
        message: impl AsRef<str>,
    ) -> Action {
        Action::Respond(ResponseData::json_error(
            context, status, error_type, message,
        ))
    }

    /// Answers with an error of a known type ([`errors`]): its status and name, with `message`
    /// for the client.
    ///
    /// ```
    /// # use wasmgate_plugin_sdk::{Action, Context};
    /// use wasmgate_plugin_sdk::errors::plugins::UNAUTHORIZED;
    /// # fn check(context: &Context<'_>) -> Action {
    /// Action::error(context, UNAUTHORIZED, "missing x-api-key header")
    /// # }
    /// ```
    pub fn error(context: &Context<'_>, kind: ErrorType, message: impl AsRef<str>) -> Action {
        Action::Respond(ResponseData::error(context, kind, message))
    }

    /// Whether this is [`Action::Continue`].
    pub fn is_continue(&self) -> bool {
        matches!(self, Action::Continue)
    }

    /// The response of an [`Action::Respond`], `None` for [`Action::Continue`].
    pub fn response(&self) -> Option<&ResponseData> {
        match self {
            Action::Continue => None,
            Action::Respond(response) => Some(response),
        }
    }
}

impl From<ResponseData> for Action {
    fn from(response: ResponseData) -> Action {
        Action::Respond(response)
    }
}

/// A response a plugin builds to answer the client itself.
///
/// ```
/// # use wasmgate_plugin_sdk::ResponseData;
/// let response = ResponseData::new(429)
///     .header("retry-after", "10")
///     .json(&serde_json::json!({ "message": "slow down" }));
/// assert_eq!(response.header_str("content-type"), Some("application/json"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseData {
    /// HTTP status code, a final one: 200–599 (the gateway refuses others).
    pub status: u16,
    /// Response headers, lower-case names, in order. Names may repeat.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl ResponseData {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        ResponseData {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header (the name is lower-cased; existing values of the name are kept).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `content-type: application/json` (replacing any content type).
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.headers.retain(|(name, _)| name != "content-type");
        self.body = value.to_string().into_bytes();
        self.header("content-type", "application/json")
    }

    /// A JSON error in the shape of the gateway's own error responses:
    /// `{"message": "...", "type": "UNAUTHORIZED", "requestId": "..."}` with
    /// `content-type: application/json`. The request id is the context's `gateway.request-id`
    /// (left out when absent). `error_type` is an upper-case stable name clients can match on.
    pub fn json_error(
        context: &Context<'_>,
        status: u16,
        error_type: &str,
        message: impl AsRef<str>,
    ) -> Self {
        let request_id = context.request_id();
        let body = ErrorBody {
            message: message.as_ref(),
            error_type,
            request_id: request_id.as_deref(),
        };
        ResponseData::new(status)
            .header("content-type", errors::CONTENT_TYPE)
            .body(body.to_json())
    }

    /// [`ResponseData::json_error`] with the status and name of a known error type.
    pub fn error(context: &Context<'_>, kind: ErrorType, message: impl AsRef<str>) -> Self {
        ResponseData::json_error(context, kind.status, kind.name, message)
    }

    /// The first value of a header, if it is present and UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }

    /// The body, if it is UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

impl fmt::Debug for ResponseData {
    /// Shows header values and the body as text (lossily), for readable test failures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value).into_owned()))
            .collect();
        f.debug_struct("ResponseData")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}
