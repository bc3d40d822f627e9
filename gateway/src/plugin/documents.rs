//! Documents attached to a plugin (`[plugins.<name>.documents]`): a file read at load, or a URL
//! fetched at load and refreshed in the background, read by the plugin through the `documents`
//! import.
//!
//! A file's content is fixed for the life of the configured plugin: a change reloads the config,
//! which configures the plugin anew. A URL document is live: each successful fetch whose content
//! differs bumps its version, which the plugin sees on its next call. A reload that keeps the
//! same URL keeps the document (no refetch).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::config::{ConfigError, DocumentDef, DocumentSource};
use crate::metrics::DOCUMENT_FETCHES_TOTAL;

/// The largest document accepted (a JWKS or a schema is far smaller).
pub const MAX_DOCUMENT_BYTES: usize = 4 << 20;

/// The least time between two fetches of one URL document asked for by the plugin
/// (`request-refresh`), so a flood of tokens with unknown `kid`s cannot flood the server.
pub const MIN_REQUESTED_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// One version of a document's content.
pub(crate) struct DocumentVersion {
    pub(crate) version: u64,
    pub(crate) content: Bytes,
    digest: [u8; 32],
}

/// Why a document cannot be read (the `documents` interface's `document-error`).
pub(crate) enum DocumentUnavailable {
    /// No such document for this plugin.
    Unknown,
    /// A URL document not fetched successfully yet, with the last failure.
    NotFetched(String),
}

/// The documents of one configured plugin, by name ([`Documents::default`]: none).
#[derive(Default)]
pub struct Documents {
    by_name: BTreeMap<String, Arc<DocumentSlot>>,
}

impl Documents {
    /// Reads the files and fetches the URLs of `defs` (reusing the URL documents of `previous`
    /// whose source is unchanged). A file that cannot be read is an error pointing at its
    /// definition; a URL that cannot be fetched is logged and retried in the background.
    pub(crate) async fn load(
        plugin: &str,
        defs: &BTreeMap<String, DocumentDef>,
        previous: Option<&Documents>,
    ) -> Result<Self, ConfigError> {
        let mut by_name = BTreeMap::new();
        for (name, def) in defs {
            let reusable = previous
                .and_then(|p| p.by_name.get(name))
                .filter(|slot| slot.source == def.source && !slot.is_file());
            let slot = match reusable {
                Some(slot) => slot.clone(),
                None => DocumentSlot::load(plugin, name, def).await?,
            };
            by_name.insert(name.clone(), slot);
        }
        Ok(Documents { by_name })
    }

    /// Whether both hold the same documents with the same content (URL documents compare by
    /// identity: the same live slot).
    pub(crate) fn same_as(&self, other: &Documents) -> bool {
        self.by_name.len() == other.by_name.len()
            && self
                .by_name
                .iter()
                .zip(&other.by_name)
                .all(|((a, x), (b, y))| {
                    a == b
                        && if x.is_file() {
                            x.source == y.source && x.digest() == y.digest()
                        } else {
                            Arc::ptr_eq(x, y)
                        }
                })
    }

    /// The current version of document `name`.
    pub(crate) fn get(&self, name: &str) -> Result<Arc<DocumentVersion>, DocumentUnavailable> {
        let slot = self.by_name.get(name).ok_or(DocumentUnavailable::Unknown)?;
        let state = slot.lock();
        state
            .current
            .clone()
            .ok_or_else(|| DocumentUnavailable::NotFetched(state.last_error.clone()))
    }

    /// Asks for URL document `name` to be fetched again soon.
    pub(crate) fn request_refresh(&self, name: &str) {
        if let Some(slot) = self.by_name.get(name) {
            slot.refresh.notify_one();
        }
    }
}

/// One document: its source and its current content.
struct DocumentSlot {
    plugin: String,
    name: String,
    source: DocumentSource,
    state: Mutex<SlotState>,
    /// Wakes the refresh task: a plugin's request, or this slot being dropped.
    refresh: Arc<Notify>,
}

struct SlotState {
    current: Option<Arc<DocumentVersion>>,
    last_error: String,
}

impl DocumentSlot {
    async fn load(
        plugin: &str,
        name: &str,
        def: &DocumentDef,
    ) -> Result<Arc<DocumentSlot>, ConfigError> {
        let slot = Arc::new(DocumentSlot {
            plugin: plugin.to_owned(),
            name: name.to_owned(),
            source: def.source.clone(),
            state: Mutex::new(SlotState {
                current: None,
                last_error: "not fetched yet".to_owned(),
            }),
            refresh: Arc::new(Notify::new()),
        });
        match &def.source {
            DocumentSource::File(path) => {
                let content = tokio::fs::read(path).await.map_err(|e| {
                    let message = format!(
                        "plugin `{plugin}`: cannot read document `{name}` ({}): {e}",
                        path.display()
                    );
                    let help = "paths are relative to the config file's directory";
                    ConfigError::at(&def.origin, message, Some(help.to_owned()))
                })?;
                slot.store(Bytes::from(content));
            }
            DocumentSource::Url { refresh, .. } => {
                slot.fetch().await;
                let task = keep_fresh(Arc::downgrade(&slot), slot.refresh.clone(), *refresh);
                tokio::spawn(task);
            }
        }
        Ok(slot)
    }

    fn is_file(&self) -> bool {
        matches!(self.source, DocumentSource::File(_))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn digest(&self) -> Option<[u8; 32]> {
        self.lock().current.as_ref().map(|c| c.digest)
    }

    /// Keeps `content` as the current version; returns whether it changed.
    fn store(&self, content: Bytes) -> bool {
        let digest: [u8; 32] = Sha256::digest(&content).into();
        let mut state = self.lock();
        let version = match &state.current {
            Some(current) if current.digest == digest => return false,
            Some(current) => current.version + 1,
            None => 1,
        };
        state.current = Some(Arc::new(DocumentVersion {
            version,
            content,
            digest,
        }));
        true
    }

    /// Fetches a URL document once, keeping the content on success and the reason on failure.
    async fn fetch(&self) {
        let DocumentSource::Url { url, timeout, .. } = &self.source else {
            return;
        };
        let outcome = match tokio::time::timeout(*timeout, get(url)).await {
            Ok(Ok(content)) => {
                if self.store(content) {
                    "changed"
                } else {
                    "unchanged"
                }
            }
            Ok(Err(reason)) => self.failed(reason),
            Err(_) => self.failed(format!("no complete answer within {timeout:?}")),
        };
        metrics::counter!(DOCUMENT_FETCHES_TOTAL, "plugin" => self.plugin.clone(), "document" => self.name.clone(), "outcome" => outcome)
            .increment(1);
    }

    fn failed(&self, reason: String) -> &'static str {
        let (plugin, document) = (&self.plugin, &self.name);
        let kept = self.lock().current.is_some();
        tracing::warn!(
            plugin,
            document,
            kept_previous = kept,
            "cannot fetch document: {reason}"
        );
        self.lock().last_error = reason;
        "failed"
    }
}

impl Drop for DocumentSlot {
    fn drop(&mut self) {
        // Wakes the refresh task, which then finds the slot gone and ends.
        self.refresh.notify_one();
    }
}

/// Refetches the document every `every`, or soon after the plugin asks, until it is dropped.
async fn keep_fresh(slot: Weak<DocumentSlot>, wake: Arc<Notify>, every: Duration) {
    let mut last_fetch = Instant::now();
    loop {
        let requested = tokio::select! {
            () = tokio::time::sleep(every) => false,
            () = wake.notified() => true,
        };
        if requested {
            let earliest = last_fetch + MIN_REQUESTED_REFRESH_INTERVAL;
            tokio::time::sleep_until(earliest.into()).await;
        }
        let Some(slot) = slot.upgrade() else { return };
        slot.fetch().await;
        last_fetch = Instant::now();
    }
}

/// The client documents are fetched with: `http`, or `https` verified against the system's
/// root certificates.
type DocumentClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// `GET url`: the body of a 2xx answer, at most [`MAX_DOCUMENT_BYTES`].
async fn get(url: &http::Uri) -> Result<Bytes, String> {
    /// The client, and why it cannot verify `https` servers (no system root certificates).
    static CLIENT: std::sync::OnceLock<(DocumentClient, Option<String>)> =
        std::sync::OnceLock::new();
    let (client, tls_problem) = CLIENT.get_or_init(|| {
        let (tls, problem) = match crate::tls::upstream_client_config(None, None) {
            Ok(tls) => (tls, None),
            Err(error) => {
                let roots = rustls::RootCertStore::empty();
                let tls = crate::tls::upstream_client_config(Some(roots), None)
                    .expect("no client certificate to reject");
                (tls, Some(error.to_string()))
            }
        };
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        (
            Client::builder(TokioExecutor::new()).build(connector),
            problem,
        )
    });
    if let (Some("https"), Some(problem)) = (url.scheme_str(), tls_problem) {
        return Err(format!("GET {url}: cannot verify https servers: {problem}"));
    }
    let response = client
        .get(url.clone())
        .await
        .map_err(|e| format!("GET {url}: {}", crate::integration::describe_error(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {url}: status {status}"));
    }
    Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map(|body| body.to_bytes())
        .map_err(|e| format!("GET {url}: reading the body: {e}"))
}
