//! What a recording never holds: the values of credential headers (and configured ones) and of
//! configured query parameters, replaced by [`REDACTED`] wherever the exchange is captured.

use http::HeaderName;
use serde::{Deserialize, Serialize};

/// What a redacted value reads as in a recording.
pub const REDACTED: &str = "[redacted]";

/// The names whose values a recording replaces by [`REDACTED`]. Written into every recorded
/// request, so replay captures its own views the same way and compares like with like.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// Header names, lower-case.
    pub headers: Vec<String>,
    /// Query parameter names.
    pub query: Vec<String>,
}

impl Redaction {
    /// The redaction of `[record]`'s settings.
    pub fn new(headers: &[HeaderName], query: &[String]) -> Self {
        Redaction {
            headers: headers.iter().map(|h| h.as_str().to_owned()).collect(),
            query: query.to_vec(),
        }
    }

    /// Whether the header `name` (lower-case) is redacted.
    pub fn hides_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// `query` with the values of redacted parameters replaced; the rest kept byte for byte.
    pub fn query(&self, query: &str) -> String {
        if self.query.is_empty() {
            return query.to_owned();
        }
        let pairs = query.split('&').map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            if self.query.iter().any(|q| *q == decoded) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        });
        pairs.collect::<Vec<_>>().join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_the_named_query_parameters() {
        let redaction = Redaction {
            headers: vec![],
            query: vec!["api_key".into()],
        };
        assert_eq!(
            redaction.query("page=2&api_key=s3cret&q=a%20b&api%5Fkey=x"),
            "page=2&api_key=[redacted]&q=a%20b&api%5Fkey=[redacted]"
        );
        assert_eq!(redaction.query("flag"), "flag");
    }
}
