//! The keys a request is checked against: the config's own, plus those of the keys document,
//! re-parsed whenever its version moves.
//!
//! A document version that fails to parse (bad TOML, an unknown plan, a duplicate id) is logged
//! once and the previous keys stay in force, so a bad edit of the keys file never locks every
//! client out. The first version is read at `init`, so a bad file fails the gateway's (re)load.

use std::cell::RefCell;
use std::sync::Arc;

use wasmgate_plugin_sdk::documents::{self, DocumentError};
use wasmgate_plugin_sdk::{InitError, log};

use crate::config::KeyConfig;
use crate::keys::{KeyTable, parse_document};
use crate::plan::Plans;

/// Why there are no keys to check a request against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeysError {
    /// The keys document (a URL) has not been fetched yet.
    Unavailable(String),
    /// The keys document is missing or no version of it was valid: a configuration bug.
    Invalid(String),
}

/// The keys of the plugin.
#[derive(Debug)]
pub(crate) struct KeySet {
    inline: Vec<KeyConfig>,
    plans: Plans,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Only the config's keys.
    Fixed(Arc<KeyTable>),
    /// The config's keys and those of document `name`.
    Document {
        name: String,
        loaded: RefCell<Loaded>,
    },
}

/// The state of the document keys.
#[derive(Debug, Default)]
struct Loaded {
    /// The last version read (valid or not).
    seen: Option<u64>,
    /// The keys of the last valid version.
    table: Option<Arc<KeyTable>>,
    /// Why the last version read was refused.
    failure: Option<String>,
}

impl KeySet {
    /// Validates the config's keys and, with a document, reads its first version.
    pub(crate) fn new(
        inline: Vec<KeyConfig>,
        plans: Plans,
        document: Option<String>,
    ) -> Result<KeySet, InitError> {
        let table = KeyTable::build([("keys", &inline[..])], &plans)
            .map_err(|err| InitError::invalid_config(&err.path, err.message))?;
        let Some(name) = document else {
            return Ok(KeySet {
                inline,
                plans,
                source: Source::Fixed(Arc::new(table)),
            });
        };
        let set = KeySet {
            inline,
            plans,
            source: Source::Document {
                name: name.clone(),
                loaded: RefCell::default(),
            },
        };
        match documents::get(&name) {
            Ok(document) => {
                let table = set.build(&document.content).map_err(|err| {
                    InitError::invalid_config("keys_document", format!("document `{name}`: {err}"))
                })?;
                set.store(document.version, Ok(table));
            }
            Err(DocumentError::Unavailable(_)) => {}
            Err(err @ DocumentError::Unknown(_)) => {
                return Err(InitError::invalid_config("keys_document", err));
            }
        }
        Ok(set)
    }

    /// The keys in force, re-reading the document if its version moved.
    pub(crate) fn current(&self) -> Result<Arc<KeyTable>, KeysError> {
        let (name, loaded) = match &self.source {
            Source::Fixed(table) => return Ok(Arc::clone(table)),
            Source::Document { name, loaded } => (name, loaded),
        };
        match documents::version(name) {
            Ok(version) if loaded.borrow().seen != Some(version) => self.reload(name),
            Ok(_) => {}
            Err(DocumentError::Unavailable(reason)) if loaded.borrow().table.is_none() => {
                return Err(KeysError::Unavailable(format!(
                    "document `{name}`: {reason}"
                )));
            }
            Err(DocumentError::Unavailable(_)) => {}
            Err(err @ DocumentError::Unknown(_)) => {
                return Err(KeysError::Invalid(err.to_string()));
            }
        }
        let loaded = loaded.borrow();
        match (&loaded.table, &loaded.failure) {
            (Some(table), _) => Ok(Arc::clone(table)),
            (None, Some(failure)) => {
                Err(KeysError::Invalid(format!("document `{name}`: {failure}")))
            }
            (None, None) => Err(KeysError::Unavailable(format!(
                "document `{name}`: not read yet"
            ))),
        }
    }

    fn reload(&self, name: &str) {
        let document = match documents::get(name) {
            Ok(document) => document,
            // Gone between the two calls: the next request tries again.
            Err(_) => return,
        };
        let version = document.version.to_string();
        let built = self.build(&document.content);
        match &built {
            Ok(table) => log::info(
                "API keys document loaded",
                &[
                    ("document", name),
                    ("version", &version),
                    ("keys", &table.len().to_string()),
                ],
            ),
            Err(err) => log::error(
                "API keys document refused, the previous keys stay in force",
                &[("document", name), ("version", &version), ("error", err)],
            ),
        }
        self.store(document.version, built);
    }

    fn store(&self, version: u64, built: Result<KeyTable, String>) {
        if let Source::Document { loaded, .. } = &self.source {
            let mut loaded = loaded.borrow_mut();
            loaded.seen = Some(version);
            match built {
                Ok(table) => {
                    loaded.table = Some(Arc::new(table));
                    loaded.failure = None;
                }
                Err(err) => loaded.failure = Some(err),
            }
        }
    }

    /// The table of the config's keys plus the document's.
    fn build(&self, content: &[u8]) -> Result<KeyTable, String> {
        let document = parse_document(content)?;
        let lists = [("config.keys", &self.inline[..]), ("keys", &document[..])];
        KeyTable::build(lists, &self.plans).map_err(|err| err.to_string())
    }
}
