//! Where clients send their key: a header or a query parameter.

use wasmgate_plugin_sdk::{EditError, InitError, Request, header};

use crate::config::SourceConfig;

/// Where the key is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// The first value of this header (lower-case name).
    Header(String),
    /// The first value of this query parameter.
    Query(String),
}

impl KeySource {
    /// Validates `source`; none means the `x-api-key` header.
    pub(crate) fn new(config: Option<SourceConfig>) -> Result<KeySource, InitError> {
        let Some(config) = config else {
            return Ok(KeySource::Header("x-api-key".into()));
        };
        match (config.header, config.query) {
            (Some(name), None) if header::is_valid_name(&name) => {
                Ok(KeySource::Header(name.to_ascii_lowercase()))
            }
            (Some(name), None) => Err(InitError::invalid_config(
                "source.header",
                format!("`{name}` is not a valid header name (letters, digits, `-`, …)"),
            )),
            (None, Some(name)) if !name.is_empty() => Ok(KeySource::Query(name)),
            (None, Some(_)) => Err(InitError::invalid_config(
                "source.query",
                "empty: name the query parameter, e.g. \"api_key\"",
            )),
            _ => Err(InitError::invalid_config(
                "source",
                "set exactly one of `header` and `query`, e.g. { header = \"x-api-key\" }",
            )),
        }
    }

    /// A short description for messages, e.g. `the x-api-key header`.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeySource::Header(name) => format!("the {name} header"),
            KeySource::Query(name) => format!("the {name} query parameter"),
        }
    }

    /// The key the client sent; `None` when absent or empty.
    pub(crate) fn read(&self, request: &Request<'_>) -> Option<Vec<u8>> {
        let key = match self {
            KeySource::Header(name) => request.header(name),
            KeySource::Query(name) => request.query_param(name).map(String::into_bytes),
        };
        key.filter(|key| !key.is_empty())
    }

    /// Removes the key from the request, so the backend never sees (or logs) it.
    pub(crate) fn remove(&self, request: &mut Request<'_>) -> Result<(), EditError> {
        match self {
            KeySource::Header(name) => request.remove_header(name),
            KeySource::Query(name) => {
                let Some(query) = request.query() else {
                    return Ok(());
                };
                let kept = without_param(&query, name);
                request.set_query((!kept.is_empty()).then_some(kept.as_str()))
            }
        }
    }
}

/// `query` without the pairs whose (percent-decoded) name is `name`.
fn without_param(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let raw_name = pair.split_once('=').map_or(*pair, |(raw_name, _)| raw_name);
            decode(raw_name) != name.as_bytes()
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Form-urlencoded decoding of a query parameter name (`+` is a space).
fn decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (b'+', _) => {
                decoded.push(b' ');
                index += 1;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_every_pair_of_the_parameter_and_keeps_the_rest() {
        assert_eq!(without_param("api_key=s&a=1&api_key=t", "api_key"), "a=1");
        assert_eq!(without_param("a=1&api%5Fkey=s&b", "api_key"), "a=1&b");
        assert_eq!(without_param("api_key", "api_key"), "");
        assert_eq!(without_param("api_keys=1", "api_key"), "api_keys=1");
    }

    #[test]
    fn decodes_names_like_forms_do() {
        assert_eq!(decode("a%20b+c%zz%4"), b"a b c%zz%4");
    }
}
