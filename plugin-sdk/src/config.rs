//! The one path from the JSON config string to a started plugin, shared by the Wasm `init`
//! export and [`testing::init`](crate::testing::init).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{InitError, Plugin};

/// The [`Plugin::Config`] of a plugin without settings: accepts only an empty config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct NoConfig {}

/// Deserialises the config and starts the plugin.
pub(crate) fn init<P: Plugin>(json: &str) -> Result<P, InitError> {
    P::init(parse(json)?)
}

/// Deserialises `json` into `C`, rejecting unknown keys and naming the key path of every error.
pub(crate) fn parse<C: DeserializeOwned>(json: &str) -> Result<C, InitError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let mut unknown = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let result = {
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(describe_unknown(&path));
        let ignoring = serde_ignored::Deserializer::new(&mut deserializer, &mut record);
        serde_path_to_error::deserialize::<_, C>(ignoring)
    };
    let result = result
        .map_err(|err| {
            let message = without_position(err.inner());
            match err.path().to_string().as_str() {
                "." => message,
                path => format!("`{path}`: {message}"),
            }
        })
        .and_then(|config| {
            deserializer
                .end()
                .map(|()| config)
                .map_err(|err| without_position(&err))
        });
    // An unknown key often explains a later error (a misspelt key is also a missing one), so it
    // comes first.
    match (unknown.is_empty(), result) {
        (true, Ok(config)) => Ok(config),
        (true, Err(message)) => Err(InitError::InvalidConfig(message)),
        (false, result) => {
            let mut messages = unknown;
            messages.extend(result.err());
            Err(InitError::InvalidConfig(messages.join("; ")))
        }
    }
}

/// ``unknown key `burts` (at `limits.burts`)`` for an ignored key.
fn describe_unknown(path: &serde_ignored::Path<'_>) -> String {
    fn push(path: &serde_ignored::Path<'_>, out: &mut String, key: &mut Option<String>) {
        use serde_ignored::Path;
        match path {
            Path::Root => {}
            Path::Seq { parent, index } => {
                push(parent, out, key);
                out.push_str(&format!("[{index}]"));
            }
            Path::Map { parent, key: name } => {
                push(parent, out, key);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
                *key = Some(name.clone());
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => push(parent, out, key),
        }
    }
    let mut full = String::new();
    let mut key = None;
    push(path, &mut full, &mut key);
    match key {
        Some(key) => format!("unknown key `{key}` (at `{full}`)"),
        None => format!("unexpected value at `{full}`"),
    }
}

/// The message of a serde_json error without its `at line 1 column 7` suffix: the JSON is the
/// gateway's re-serialisation of the TOML config, so its positions mean nothing to the user.
fn without_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match message.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Config {
        header: Option<String>,
        #[serde(default)]
        limits: Limits,
        #[serde(default)]
        routes: Vec<Limits>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Limits {
        #[serde(default)]
        burst: u32,
    }

    fn error(json: &str) -> String {
        match parse::<Config>(json) {
            Err(InitError::InvalidConfig(message)) => message,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_config() {
        let config: Config = parse(r#"{"header": "x", "limits": {"burst": 3}}"#).unwrap();
        assert_eq!(config.header.as_deref(), Some("x"));
        assert_eq!(config.limits.burst, 3);
    }

    #[test]
    fn treats_an_empty_string_as_an_empty_object() {
        assert_eq!(parse::<NoConfig>("").unwrap(), NoConfig {});
        assert_eq!(parse::<NoConfig>("{}").unwrap(), NoConfig {});
    }

    #[test]
    fn rejects_unknown_keys_without_deny_unknown_fields() {
        assert_eq!(
            error(r#"{"heder": "x"}"#),
            "unknown key `heder` (at `heder`)"
        );
        assert_eq!(
            error(r#"{"limits": {"burts": 1}}"#),
            "unknown key `burts` (at `limits.burts`)"
        );
        assert_eq!(
            error(r#"{"routes": [{}, {"burts": 1}]}"#),
            "unknown key `burts` (at `routes[1].burts`)"
        );
        assert_eq!(
            parse::<NoConfig>(r#"{"a": 1}"#),
            Err(InitError::InvalidConfig("unknown key `a` (at `a`)".into()))
        );
    }

    #[test]
    fn names_the_key_path_of_type_errors() {
        assert_eq!(
            error(r#"{"limits": {"burst": "x"}}"#),
            r#"`limits.burst`: invalid type: string "x", expected u32"#
        );
        assert_eq!(
            error(r#"{"routes": [{"burst": -1}]}"#),
            "`routes[0].burst`: invalid value: integer `-1`, expected u32"
        );
    }

    #[test]
    fn reports_unknown_keys_before_the_error_they_cause() {
        #[derive(Debug, Deserialize)]
        struct Required {
            #[allow(dead_code)]
            header: String,
        }
        assert_eq!(
            parse::<Required>(r#"{"heder": "x"}"#).unwrap_err(),
            InitError::InvalidConfig(
                "unknown key `heder` (at `heder`); missing field `header`".into()
            )
        );
    }

    #[test]
    fn rejects_a_config_that_is_not_an_object() {
        assert_eq!(
            error("true"),
            "invalid type: boolean `true`, expected struct Config"
        );
        assert_eq!(error("{} x"), "trailing characters");
    }
}
