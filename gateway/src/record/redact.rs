//! What a recording never holds: the values of credential headers (and configured ones), of
//! configured query parameters, and any copy of such a value seen elsewhere in the request (a
//! context entry a plugin set from a token, another header, the path), each replaced by
//! [`REDACTED`] wherever the exchange is captured. Bodies are kept as they are (see
//! `[record] max_body_bytes`).

use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// What a redacted value reads as in a recording.
pub const REDACTED: &str = "[redacted]";

/// Secret values shorter than this are not searched for elsewhere (a two-letter value would
/// redact every string that contains it).
const MIN_SECRET_LEN: usize = 6;

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
    pub fn new(headers: &[http::HeaderName], query: &[String]) -> Self {
        Redaction {
            headers: headers.iter().map(|h| h.as_str().to_owned()).collect(),
            query: query.to_vec(),
        }
    }

    /// Whether the header `name` (lower-case) is redacted.
    pub fn hides_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// Whether the query parameter `name` (percent-encoded, as sent) is redacted.
    fn hides_parameter(&self, name: &str) -> bool {
        let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        self.query.iter().any(|q| *q == decoded)
    }
}

/// Redaction at work on one request: the rules, and the secret values seen so far.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Redaction,
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor applying `rules`, with no secret seen yet.
    pub fn new(rules: Redaction) -> Self {
        Redactor {
            rules,
            secrets: Vec::new(),
        }
    }

    /// The rules it applies.
    pub fn rules(&self) -> &Redaction {
        &self.rules
    }

    /// Learns the secrets `headers` and `query` hold: the values of redacted headers (and
    /// the token of `Bearer <token>`, each cookie's value), and of redacted query parameters.
    pub fn learn(&mut self, headers: &HeaderMap, query: Option<&str>) {
        let mut found: Vec<String> = Vec::new();
        for name in &self.rules.headers {
            for value in headers.get_all(name.as_str()) {
                let value = String::from_utf8_lossy(value.as_bytes());
                let tokens = value.split_whitespace().skip(1);
                let cookies = value
                    .split(';')
                    .filter_map(|c| c.split_once('='))
                    .map(|c| c.1);
                found.extend(tokens.chain(cookies).map(|part| part.trim().to_owned()));
                found.push(value.into_owned());
            }
        }
        let pairs = query.into_iter().flat_map(|q| q.split('&'));
        for (name, value) in pairs.filter_map(|pair| pair.split_once('=')) {
            if self.rules.hides_parameter(name) {
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                found.push(decoded.into_owned());
                found.push(value.to_owned());
            }
        }
        for secret in found {
            self.remember(secret);
        }
    }

    fn remember(&mut self, secret: String) {
        let known = self.secrets.contains(&secret);
        if secret.len() >= MIN_SECRET_LEN && secret != REDACTED && !known {
            self.secrets.push(secret);
        }
    }

    /// Whether `value` holds a secret seen before.
    fn holds_secret(&self, value: &str) -> bool {
        self.secrets
            .iter()
            .any(|secret| value.contains(secret.as_str()))
    }

    /// `value` as recorded: [`REDACTED`] when it holds a secret; a URL's redacted query
    /// parameters (after `?` or `#`) redacted; else as it is.
    pub fn value(&self, value: &str) -> String {
        if self.holds_secret(value) {
            return REDACTED.to_owned();
        }
        match value.find(['?', '#']) {
            Some(at) if !self.rules.query.is_empty() => {
                let (base, rest) = value.split_at(at);
                let parts = rest[1..].split('#').map(|part| self.query(part));
                format!(
                    "{base}{}{}",
                    &rest[..1],
                    parts.collect::<Vec<_>>().join("#")
                )
            }
            _ => value.to_owned(),
        }
    }

    /// The value of header `name` as recorded.
    pub fn header(&self, name: &str, value: &[u8]) -> String {
        if self.rules.hides_header(name) {
            return REDACTED.to_owned();
        }
        self.value(&String::from_utf8_lossy(value))
    }

    /// `query` with the values of redacted parameters (and of any holding a secret)
    /// replaced; the rest kept byte for byte.
    pub fn query(&self, query: &str) -> String {
        let pairs = query.split('&').map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if self.rules.hides_parameter(name) || self.holds_secret(value) {
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
    use http::HeaderValue;

    fn redactor(headers: &[&str], query: &[&str]) -> Redactor {
        Redactor::new(Redaction {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            query: query.iter().map(|q| q.to_string()).collect(),
        })
    }

    #[test]
    fn redacts_only_the_named_query_parameters() {
        let redactor = redactor(&[], &["api_key"]);
        assert_eq!(
            redactor.query("page=2&api_key=s3cret&q=a%20b&api%5Fkey=x"),
            "page=2&api_key=[redacted]&q=a%20b&api%5Fkey=[redacted]"
        );
        assert_eq!(redactor.query("flag"), "flag");
        assert_eq!(
            redactor.value("https://app.example/cb?api_key=s3cret&x=1#api_key=t0ken"),
            "https://app.example/cb?api_key=[redacted]&x=1#api_key=[redacted]"
        );
    }

    #[test]
    fn a_copy_of_a_secret_is_redacted_wherever_it_appears() {
        let mut redactor = redactor(&["authorization", "cookie"], &["token"]);
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer abcdef123"),
        );
        headers.insert(
            "cookie",
            HeaderValue::from_static("sid=s3ss10n; theme=dark"),
        );
        redactor.learn(&headers, Some("token=qu3ryt0k&page=2"));
        assert_eq!(
            redactor.header("authorization", b"Bearer abcdef123"),
            REDACTED
        );
        assert_eq!(redactor.value("abcdef123"), REDACTED);
        assert_eq!(redactor.value("user s3ss10n"), REDACTED);
        assert_eq!(redactor.value("/reset/qu3ryt0k"), REDACTED);
        assert_eq!(
            redactor.query("copy=abcdef123&page=2"),
            "copy=[redacted]&page=2"
        );
        // Short values ("dark") are not searched for.
        assert_eq!(redactor.value("dark"), "dark");
    }
}
