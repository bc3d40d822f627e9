//! JWK sets: parsing one (inline in the config, or from a document), and the document-backed
//! key set each instance keeps parsed, re-parsing only when the document's version changes.

use std::cell::RefCell;
use std::rc::Rc;

use crate::keys::Algorithm;
use serde_json::Value;
use wasmgate_plugin_sdk::{documents, log};

use crate::keys::{self, Key, KeyError, KeySet};

/// Why a JWK set cannot be used as a whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JwksError {
    /// Not `{"keys": [...]}`.
    NotASet,
    /// Key `index` is invalid.
    Key {
        /// Its position in `keys`.
        index: usize,
        /// Why.
        error: KeyError,
    },
}

/// Parses `{"keys": [...]}`. With `strict`, any invalid key fails the set (inline config);
/// without, invalid keys are skipped and reported in the second value (an identity provider's
/// set may hold keys of types the plugin does not verify).
pub(crate) fn parse(
    set: &Value,
    allowed: &[Algorithm],
    strict: bool,
) -> Result<(KeySet, Vec<(usize, KeyError)>), JwksError> {
    let entries = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwksError::NotASet)?;
    let mut keys: Vec<Key> = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match keys::from_jwk(entry, allowed) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(error) if strict => return Err(JwksError::Key { index, error }),
            Err(error) => skipped.push((index, error)),
        }
    }
    Ok((KeySet::new(keys), skipped))
}

/// The keys of a JWKS document, parsed once per document version.
#[derive(Debug)]
pub(crate) struct DocumentKeys {
    name: String,
    allowed: Vec<Algorithm>,
    loaded: RefCell<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    /// The document version the keys were parsed from (or last tried).
    version: Option<u64>,
    /// The last good key set (kept when a newer version does not parse).
    keys: Rc<KeySet>,
    /// The last problem logged, so a lasting one is logged once.
    reported: Option<String>,
}

impl DocumentKeys {
    /// The keys of document `name`, verifying only `allowed` algorithms.
    pub(crate) fn new(name: String, allowed: Vec<Algorithm>) -> Self {
        DocumentKeys {
            name,
            allowed,
            loaded: RefCell::new(Loaded::default()),
        }
    }

    /// The document's current keys: one host call when the version is unchanged; a new version
    /// is fetched and parsed. When the document is missing or invalid, the last good keys stay.
    pub(crate) fn current(&self) -> Rc<KeySet> {
        let mut loaded = self.loaded.borrow_mut();
        let version = match documents::version(&self.name) {
            Ok(version) => version,
            Err(err) => {
                loaded.report(&self.name, &err.to_string());
                return Rc::clone(&loaded.keys);
            }
        };
        if loaded.version != Some(version) {
            match documents::get(&self.name) {
                Ok(document) => {
                    loaded.version = Some(document.version);
                    match self.parse(&document.content) {
                        Ok(keys) => {
                            loaded.keys = Rc::new(keys);
                            loaded.reported = None;
                        }
                        Err(problem) => loaded.report(&self.name, &problem),
                    }
                }
                Err(err) => loaded.report(&self.name, &err.to_string()),
            }
        }
        Rc::clone(&loaded.keys)
    }

    /// Asks the gateway to fetch the document again soon (it rate-limits such requests).
    pub(crate) fn request_refresh(&self) {
        documents::request_refresh(&self.name);
    }

    fn parse(&self, content: &[u8]) -> Result<KeySet, String> {
        let set: Value = serde_json::from_slice(content)
            .map_err(|err| format!("the JWKS is not JSON: {err}"))?;
        let (keys, skipped) = parse(&set, &self.allowed, false)
            .map_err(|_| "the JWKS is not an object with a `keys` array".to_owned())?;
        for (index, error) in skipped {
            let kid = set["keys"][index]["kid"].as_str().unwrap_or("").to_owned();
            log::warn(
                "JWKS key skipped",
                &[
                    ("document", self.name.as_str()),
                    ("index", index.to_string().as_str()),
                    ("kid", kid.as_str()),
                    ("reason", error.to_string().as_str()),
                ],
            );
        }
        log::info(
            "JWKS loaded",
            &[
                ("document", self.name.as_str()),
                ("keys", keys.len().to_string().as_str()),
            ],
        );
        Ok(keys)
    }
}

impl Loaded {
    /// Logs a document problem, once until it changes.
    fn report(&mut self, name: &str, problem: &str) {
        if self.reported.as_deref() != Some(problem) {
            log::error(
                "JWKS document unusable; keeping the previous keys",
                &[("document", name), ("reason", problem)],
            );
            self.reported = Some(problem.to_owned());
        }
    }
}
