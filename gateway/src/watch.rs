//! Reload on file changes: watches the directories holding the config file and every file it
//! references, and turns each burst of events into one reload once the files have been quiet
//! for the debounce window.
//!
//! Directories, not files, are watched, so the replacements that editors (write a temp file,
//! rename it over) and Kubernetes ConfigMap mounts (swap the `..data` symlink) make are seen.
//! Events about other files in those directories (logs, editor swap files) are ignored; a
//! reload after events that changed no content is skipped by the reloader's digest check,
//! which hashes only files whose size, times or inode changed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use crate::reload::{Reloader, Trigger};
use crate::snapshot::Snapshot;

/// The file watcher of a running gateway: directories registered, events queued.
pub(crate) struct FileWatch {
    reloader: Arc<Reloader>,
    watcher: RecommendedWatcher,
    /// The directories watched now.
    watched: BTreeSet<PathBuf>,
    /// The file names whose events count; shared with the watcher's callback.
    relevant: Arc<Mutex<BTreeSet<OsString>>>,
    /// One message per relevant event.
    received: mpsc::UnboundedReceiver<()>,
}

impl FileWatch {
    /// Registers the watches for the current config before returning, so that a change made
    /// as soon as the gateway is up is seen. `None` (logged) when the platform's watcher
    /// cannot start: the gateway then reloads on SIGHUP and the admin API only.
    pub(crate) fn start(reloader: Arc<Reloader>) -> Option<Self> {
        let (events, received) = mpsc::unbounded_channel();
        let relevant = Arc::new(Mutex::new(BTreeSet::new()));
        let names = relevant.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            let names = names
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if event.paths.iter().any(|path| concerns(path, &names)) {
                let _ = events.send(());
            }
        });
        let watcher = match watcher {
            Ok(watcher) => watcher,
            Err(error) => {
                tracing::error!(%error, "cannot watch config files; reload with SIGHUP or the admin API");
                return None;
            }
        };
        let mut watch = FileWatch {
            reloader,
            watcher,
            watched: BTreeSet::new(),
            relevant,
            received,
        };
        watch.sync_watches();
        Some(watch)
    }

    /// Reloads after each burst of events, once the files were quiet for `debounce`, until
    /// `shutdown` flips.
    pub(crate) async fn run(mut self, debounce: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                event = self.received.recv() => if event.is_none() { return },
                _ = shutdown.changed() => return,
            }
            // Debounce: wait until no event arrived for a whole window.
            loop {
                tokio::select! {
                    event = self.received.recv() => if event.is_none() { return },
                    _ = tokio::time::sleep(debounce) => break,
                    _ = shutdown.changed() => return,
                }
            }
            // Failures are logged and counted by the reloader; the old snapshot keeps serving.
            let _ = self.reloader.reload(Trigger::File, true).await;
            self.sync_watches();
        }
    }

    /// Watches the directories the current snapshot needs and unwatches those it no longer
    /// does; events are then taken for the files it references.
    fn sync_watches(&mut self) {
        let snapshot = self.reloader.current();
        *self
            .relevant
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = file_names(&snapshot);
        let wanted = directories(&snapshot);
        for gone in self.watched.difference(&wanted) {
            let _ = self.watcher.unwatch(gone);
        }
        for dir in wanted.difference(&self.watched) {
            if let Err(error) = self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %dir.display(), %error, "cannot watch directory for changes");
            }
        }
        self.watched = wanted;
    }
}

/// Whether an event on `path` may concern a referenced file: its name is one of theirs (also
/// when an editor renames a temporary file over it), or it is a Kubernetes ConfigMap's
/// `..data` link or timestamped directory, through which every file of the mount changes.
fn concerns(path: &Path, names: &BTreeSet<OsString>) -> bool {
    let Some(name) = path.file_name() else {
        return true;
    };
    names.contains(name) || name.as_encoded_bytes().starts_with(b"..")
}

/// The file names of the config and every file it references.
fn file_names(snapshot: &Snapshot) -> BTreeSet<OsString> {
    referenced(snapshot)
        .filter_map(Path::file_name)
        .map(OsString::from)
        .collect()
}

/// The config file and every file it references.
fn referenced(snapshot: &Snapshot) -> impl Iterator<Item = &Path> {
    let config = &snapshot.config;
    std::iter::once(config.source.as_path())
        .chain(config.plugins.values().map(|p| p.path.as_path()))
        .chain(config.watched_files.iter().map(PathBuf::as_path))
}

/// The directories to watch for `snapshot`: the config file's and every referenced file's.
fn directories(snapshot: &Snapshot) -> BTreeSet<PathBuf> {
    referenced(snapshot)
        .filter_map(Path::parent)
        .map(Path::to_path_buf)
        .collect()
}
