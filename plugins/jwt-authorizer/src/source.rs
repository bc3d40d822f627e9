//! Where the token is read from: a header (by default `Authorization: Bearer …`), a cookie or a
//! query parameter.

use wasmgate_plugin_sdk::{InitError, Request, header};

use crate::config::TokenSection;

/// Where the token is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// A header, lower-case; with a scheme (e.g. `Bearer`), the value must be
    /// `<scheme> <token>` (scheme compared case-insensitively).
    Header {
        /// The header name.
        name: String,
        /// The authentication scheme before the token, if any.
        scheme: Option<String>,
    },
    /// A cookie of this name.
    Cookie(String),
    /// A query parameter of this name (percent-decoded).
    Query(String),
}

impl Default for TokenSource {
    fn default() -> Self {
        TokenSource::Header {
            name: "authorization".into(),
            scheme: Some("Bearer".into()),
        }
    }
}

impl TokenSource {
    /// Validates the `token` section (`None`: the default, `Authorization: Bearer`).
    pub(crate) fn from_config(section: Option<TokenSection>) -> Result<TokenSource, InitError> {
        let Some(section) = section else {
            return Ok(TokenSource::default());
        };
        let source = match (section.header, section.cookie, section.query) {
            (Some(name), None, None) => {
                if !header::is_valid_name(&name) {
                    return Err(InitError::invalid_config(
                        "token.header",
                        format!("invalid header name `{name}`"),
                    ));
                }
                let name = name.to_ascii_lowercase();
                let scheme = match section.scheme {
                    Some(scheme) if scheme.is_empty() => None,
                    Some(scheme) if !header::is_valid_name(&scheme) => {
                        return Err(InitError::invalid_config(
                            "token.scheme",
                            format!("invalid scheme `{scheme}`: a single token such as `Bearer`"),
                        ));
                    }
                    Some(scheme) => Some(scheme),
                    None if name == "authorization" => Some("Bearer".to_owned()),
                    None => None,
                };
                return Ok(TokenSource::Header { name, scheme });
            }
            (None, Some(name), None) => TokenSource::Cookie(name),
            (None, None, Some(name)) => TokenSource::Query(name),
            _ => {
                return Err(InitError::invalid_config(
                    "token",
                    "set exactly one of `header`, `cookie` or `query`",
                ));
            }
        };
        if section.scheme.is_some() {
            return Err(InitError::invalid_config(
                "token.scheme",
                "only applies to `header`",
            ));
        }
        match &source {
            TokenSource::Cookie(name) | TokenSource::Query(name) if name.is_empty() => Err(
                InitError::invalid_config("token", "empty cookie or query parameter name"),
            ),
            _ => Ok(source),
        }
    }

    /// The token the request carries, if any (an empty one counts as none).
    pub(crate) fn extract(&self, request: &Request<'_>) -> Option<String> {
        let token = match self {
            TokenSource::Header { name, scheme } => {
                let value = request.header_str(name)?;
                match scheme {
                    None => value.trim().to_owned(),
                    Some(scheme) => {
                        let (given, token) = value.trim().split_once(' ')?;
                        if !given.eq_ignore_ascii_case(scheme) {
                            return None;
                        }
                        token.trim().to_owned()
                    }
                }
            }
            TokenSource::Cookie(name) => cookie(request, name)?,
            TokenSource::Query(name) => request.query_param(name)?,
        };
        (!token.is_empty()).then_some(token)
    }

    /// Where the token was expected, for the "missing token" message.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenSource::Header {
                name,
                scheme: Some(scheme),
            } => format!("expected `{name}: {scheme} <token>`"),
            TokenSource::Header { name, scheme: None } => format!("expected the `{name}` header"),
            TokenSource::Cookie(name) => format!("expected the `{name}` cookie"),
            TokenSource::Query(name) => format!("expected the `{name}` query parameter"),
        }
    }
}

/// The first cookie called `name` in the `Cookie` header(s).
fn cookie(request: &Request<'_>, name: &str) -> Option<String> {
    request
        .header_values("cookie")
        .into_iter()
        .filter_map(|value| String::from_utf8(value).ok())
        .find_map(|value| {
            value.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then(|| value.trim().trim_matches('"').to_owned())
            })
        })
}
