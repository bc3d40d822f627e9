//! Error responses: the JSON body every gateway answer and every built-in plugin's refusal
//! carries, and the stable type names clients match on.
//!
//! ```json
//! {"message": "Too many requests", "type": "THROTTLED", "requestId": "…"}
//! ```
//!
//! The gateway renders its own answers (no route, a failed plugin, an unreachable backend …)
//! with [`ErrorBody`]; the SDK's `json_error` does the same for plugins, so a client sees one
//! shape whoever answered. A plugin may add fields of its own after these three (the validator
//! adds `errors`).

use serde::{Deserialize, Serialize};

/// The `content-type` of an error body.
pub const CONTENT_TYPE: &str = "application/json";

/// The JSON body of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody<'a> {
    /// For the API client: what went wrong, never internal details (those go to the log).
    pub message: &'a str,
    /// The stable, upper-case name of the error ([`ErrorType::name`]).
    #[serde(rename = "type")]
    pub error_type: &'a str,
    /// The request id (`gateway.request-id`), left out when unknown.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

impl ErrorBody<'_> {
    /// The body as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Three strings into a Vec: serialisation cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A kind of error answer: its stable name, its status and the message clients see when the
/// answerer has nothing more precise to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorType {
    /// The stable name, e.g. `RESOURCE_NOT_FOUND`.
    pub name: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The default client-facing message.
    pub message: &'static str,
}

macro_rules! error_types {
    ($list:ident: $($(#[$doc:meta])* $ident:ident = ($status:literal, $message:literal);)*) => {
        $( $(#[$doc])* pub const $ident: ErrorType = ErrorType {
            name: stringify!($ident),
            status: $status,
            message: $message,
        }; )*
        #[doc = concat!("Every type in `", stringify!($list), "`.")]
        pub const $list: &[ErrorType] = &[$($ident),*];
    };
}

/// The types of the answers the gateway gives itself.
pub mod gateway {
    use super::ErrorType;

    error_types! { ALL:
        /// No route matches the path.
        RESOURCE_NOT_FOUND = (404, "Resource not found");
        /// A route matches the path but not the method.
        METHOD_NOT_ALLOWED = (405, "Method not allowed");
        /// The request body is larger than the gateway (or a validator) accepts.
        REQUEST_TOO_LARGE = (413, "Request body too large");
        /// The request line and headers are larger than the gateway accepts.
        REQUEST_HEADERS_TOO_LARGE = (431, "Request header fields too large");
        /// The request body could not be read, or (validator) does not match its schema.
        BAD_REQUEST_BODY = (400, "Invalid request body");
        /// A plugin failed and its failure policy is `closed`.
        PLUGIN_FAILURE = (500, "Internal server error");
        /// The backend could not be reached or sent an invalid answer.
        INTEGRATION_FAILURE = (502, "Bad gateway");
        /// The backend did not answer in time.
        INTEGRATION_TIMEOUT = (504, "Gateway timeout");
        /// The gateway (or a store a plugin needs) cannot take the request right now.
        SERVICE_UNAVAILABLE = (503, "Service unavailable");
    }
}

/// The types the built-in plugins refuse requests with (they may also use the gateway's).
pub mod plugins {
    use super::ErrorType;

    error_types! { ALL:
        /// No credentials, or credentials that do not verify (`jwt-authorizer`).
        UNAUTHORIZED = (401, "Unauthorized");
        /// Valid credentials without the scope the route needs (`jwt-authorizer`).
        ACCESS_DENIED = (403, "Access denied");
        /// A missing or unknown API key (`api-keys`).
        INVALID_API_KEY = (403, "Invalid API key");
        /// A rate limit or a usage plan's throttle was hit (`rate-limiter`, `api-keys`).
        THROTTLED = (429, "Too many requests");
        /// A usage plan's quota for the period is used up (`api-keys`).
        QUOTA_EXCEEDED = (429, "Quota exceeded");
        /// A browser origin a CORS preflight may not use (`cors`).
        CORS_ORIGIN_NOT_ALLOWED = (403, "Origin not allowed");
        /// The request was judged an attack (`waf`).
        WAF_FILTERED = (403, "Request blocked by the web application firewall");
        /// Path, query or header parameters that break the route's rules (`validator`).
        BAD_REQUEST_PARAMETERS = (400, "Invalid request parameters");
        /// A body of a media type the route does not accept (`validator`).
        UNSUPPORTED_MEDIA_TYPE = (415, "Unsupported media type");
        /// A request or response could not be reshaped (`mapper`).
        MAPPING_FAILURE = (500, "Mapping failure");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_documented_shape() {
        let body = ErrorBody {
            message: "Too many \"requests\"",
            error_type: plugins::THROTTLED.name,
            request_id: Some("req-1"),
        };
        assert_eq!(
            String::from_utf8(body.to_json()).unwrap(),
            r#"{"message":"Too many \"requests\"","type":"THROTTLED","requestId":"req-1"}"#
        );
        let anonymous = ErrorBody {
            request_id: None,
            ..body
        };
        assert!(
            !String::from_utf8(anonymous.to_json())
                .unwrap()
                .contains("requestId")
        );
    }

    #[test]
    fn names_are_unique_and_statuses_are_errors() {
        let mut names: Vec<_> = gateway::ALL
            .iter()
            .chain(plugins::ALL)
            .map(|t| t.name)
            .collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a type name is defined twice");
        for kind in gateway::ALL.iter().chain(plugins::ALL) {
            assert!((400..=599).contains(&kind.status), "{}", kind.name);
            assert!(
                crate::edits::check_status(kind.status).is_ok(),
                "{}",
                kind.name
            );
        }
    }
}
