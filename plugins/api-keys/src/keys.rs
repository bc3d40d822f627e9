//! The validated key table: digest → key, built from the config's `keys` and the keys document.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::config::{KeyConfig, KeysDocument};
use crate::hash::{KeyDigest, parse_digest};
use crate::plan::{Plan, Plans};

/// The longest key id accepted.
const MAX_ID_LEN: usize = 128;

/// A known key.
#[derive(Debug)]
pub(crate) struct Key {
    /// Its id (`api-key.id`).
    pub(crate) id: String,
    /// Its plan.
    pub(crate) plan: Arc<Plan>,
    /// Whether it is accepted.
    pub(crate) enabled: bool,
    /// The bucket and quota key in the shared store: `key:<id>`, the same on every replica.
    pub(crate) store_key: String,
}

/// The keys by digest.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    by_digest: HashMap<KeyDigest, Key>,
}

/// What is wrong with a key entry: the path of the value and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyError {
    /// E.g. `keys[2].plan`.
    pub(crate) path: String,
    /// What is wrong and how to fix it.
    pub(crate) message: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path, self.message)
    }
}

impl KeyTable {
    /// The key with this digest.
    pub(crate) fn find(&self, digest: &KeyDigest) -> Option<&Key> {
        self.by_digest.get(digest)
    }

    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Builds the table from lists of keys, each with its path for errors (e.g. `keys`): ids
    /// and digests must be unique over all the lists, plans must exist.
    pub(crate) fn build<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [KeyConfig])>,
        plans: &Plans,
    ) -> Result<KeyTable, KeyError> {
        let mut table = KeyTable::default();
        let mut ids: HashMap<&str, String> = HashMap::new();
        for (prefix, keys) in entries {
            for (index, config) in keys.iter().enumerate() {
                let path = format!("{prefix}[{index}]");
                let error = |field: &str, message: String| KeyError {
                    path: format!("{path}.{field}"),
                    message,
                };
                check_id(&config.id).map_err(|message| error("id", message))?;
                if let Some(first) = ids.insert(&config.id, path.clone()) {
                    return Err(error(
                        "id",
                        format!("`{}` is also the id of `{first}`", config.id),
                    ));
                }
                let digest =
                    parse_digest(&config.hash).map_err(|message| error("hash", message))?;
                let plan = plans.get(&config.plan).ok_or_else(|| {
                    let known: Vec<&str> = plans.keys().map(String::as_str).collect();
                    error(
                        "plan",
                        format!(
                            "unknown plan `{}` (plans: {})",
                            config.plan,
                            known.join(", ")
                        ),
                    )
                })?;
                let key = Key {
                    id: config.id.clone(),
                    plan: Arc::clone(plan),
                    enabled: config.enabled,
                    store_key: format!("key:{}", config.id),
                };
                if let Some(other) = table.by_digest.insert(digest, key) {
                    return Err(error(
                        "hash",
                        format!(
                            "the same hash as key `{}`: every key needs its own secret",
                            other.id
                        ),
                    ));
                }
            }
        }
        Ok(table)
    }
}

/// Parses a keys document (`[[keys]]` TOML tables).
pub(crate) fn parse_document(content: &[u8]) -> Result<Vec<KeyConfig>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "not UTF-8 text".to_owned())?;
    toml::from_str::<KeysDocument>(text)
        .map(|document| document.keys)
        .map_err(|err| {
            // The message and line only: the error's source excerpt could echo a secret that was
            // pasted into the file by mistake.
            let line = err.span().map_or(1, |span| {
                text.as_bytes()[..span.start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            format!("line {line}: {}", err.message().trim_end())
        })
}

/// Ids are visible ASCII (they go into logs, headers and store keys), 1 to 128 characters.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "`{id}` is not a key id: use 1 to {MAX_ID_LEN} visible ASCII characters without \
             spaces, e.g. \"k-42\""
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{digest, hash_key};

    fn plans() -> Plans {
        let plan = Plan {
            name: "free".into(),
            throttle: None,
            quota: None,
        };
        Plans::from([("free".to_owned(), Arc::new(plan))])
    }

    fn key(id: &str, secret: &str, plan: &str) -> KeyConfig {
        KeyConfig {
            id: id.into(),
            hash: hash_key(secret),
            plan: plan.into(),
            enabled: true,
        }
    }

    fn build_error(keys: &[KeyConfig]) -> String {
        KeyTable::build([("keys", keys)], &plans())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn finds_keys_by_the_digest_of_their_secret() {
        let keys = [key("k-1", "s1", "free"), key("k-2", "s2", "free")];
        let table = KeyTable::build([("keys", &keys[..])], &plans()).unwrap();
        let found = table.find(&digest(b"s2")).unwrap();
        assert_eq!(
            (found.id.as_str(), found.store_key.as_str()),
            ("k-2", "key:k-2")
        );
        assert!(table.find(&digest(b"s3")).is_none());
    }

    #[test]
    fn refuses_duplicate_ids_and_secrets_across_lists() {
        let inline = [key("k-1", "s1", "free")];
        let document = [key("k-1", "s2", "free")];
        let err = KeyTable::build(
            [("keys", &inline[..]), ("document keys", &document[..])],
            &plans(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`document keys[0].id`: `k-1` is also the id of `keys[0]`"
        );
        assert_eq!(
            build_error(&[key("k-1", "s1", "free"), key("k-2", "s1", "free")]),
            "`keys[1].hash`: the same hash as key `k-1`: every key needs its own secret"
        );
    }

    #[test]
    fn refuses_unknown_plans_and_odd_ids() {
        assert_eq!(
            build_error(&[key("k-1", "s1", "gold")]),
            "`keys[0].plan`: unknown plan `gold` (plans: free)"
        );
        assert!(build_error(&[key("k 1", "s1", "free")]).starts_with("`keys[0].id`: `k 1` is not"));
    }

    #[test]
    fn parses_a_toml_keys_document() {
        let document = format!(
            "[[keys]]\nid = \"k-1\"\nhash = \"{}\"\nplan = \"free\"\nenabled = false\n",
            hash_key("s1")
        );
        let keys = parse_document(document.as_bytes()).unwrap();
        assert_eq!((keys[0].id.as_str(), keys[0].enabled), ("k-1", false));
        assert_eq!(
            parse_document(b"[[keys]]\nid = 1\n").unwrap_err(),
            "line 2: invalid type: integer `1`, expected a string"
        );
        assert!(parse_document(b"\xff").is_err());
    }
}
