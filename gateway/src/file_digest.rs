//! Content digests of the files a config references (the config itself, plugin `.wasm`
//! files, documents, certificates), hashed only when a file's identity or stamp changed: a
//! file whose device, inode, size, modification and change times are those it had when it
//! was last hashed keeps its digest without being read. A reload that edits one plugin's
//! config therefore hashes the config file and no `.wasm`.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        // Follows symlinks: a ConfigMap's `..data` swap gives the path a new inode.
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        })
    }
}

/// SHA-256 of the file at `path`, lower-case hex; `None` when it cannot be read.
pub(crate) fn file_digest(path: &Path) -> Option<String> {
    known_digest(path).or_else(|| read_with_digest(path).ok().map(|(_, digest)| digest))
}

/// The digest of the file at `path` if it is unchanged since it was last hashed, without
/// reading it; `None` when it changed, was never hashed, or cannot be stat'ed.
pub(crate) fn known_digest(path: &Path) -> Option<String> {
    cached(path, Stamp::of(path)?)
}

/// Reads the file at `path` once, returning its bytes and their digest (which is remembered
/// for its current stamp).
pub(crate) fn read_with_digest(path: &Path) -> std::io::Result<(Vec<u8>, String)> {
    let before = Stamp::of(path);
    let bytes = std::fs::read(path)?;
    let digest = digest_of(&bytes);
    // Cached only if the file did not change while it was read.
    let unchanged = before.filter(|stamp| Stamp::of(path) == Some(*stamp));
    remember(path, unchanged, &digest);
    Ok((bytes, digest))
}

/// SHA-256 of `bytes`, lower-case hex.
fn digest_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// How many times the file at `path` was read to be hashed since the process started (a
/// config-only reload must read no `.wasm`; tests and the reload benchmark check it).
pub fn times_read(path: &Path) -> u64 {
    lock_cache().get(path).map_or(0, |known| known.reads)
}

/// The last digest computed for a path, and how often the path was read.
struct Known {
    /// The file's stamp when it was hashed; `None` when it changed while being read.
    stamp: Option<Stamp>,
    digest: String,
    reads: u64,
}

fn lock_cache() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Known>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Known>>> = OnceLock::new();
    CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cached(path: &Path, stamp: Stamp) -> Option<String> {
    let cache = lock_cache();
    let known = cache.get(path)?;
    (known.stamp == Some(stamp)).then(|| known.digest.clone())
}

fn remember(path: &Path, stamp: Option<Stamp>, digest: &str) {
    let mut cache = lock_cache();
    let reads = cache.get(path).map_or(0, |known| known.reads) + 1;
    let known = Known {
        stamp,
        digest: digest.to_owned(),
        reads,
    };
    cache.insert(path.to_owned(), known);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_file_is_not_read_again_and_a_changed_one_is() {
        let dir = std::env::temp_dir().join(format!("wasmgate-digest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("plugin.wasm");
        std::fs::write(&file, b"one").unwrap();
        let first = file_digest(&file).unwrap();
        assert_eq!(file_digest(&file).unwrap(), first);
        assert_eq!(times_read(&file), 1, "same stamp: not read again");

        // Replaced by rename, as editors and deploy tools do: a new inode.
        let tmp = dir.join("plugin.wasm.tmp");
        std::fs::write(&tmp, b"two").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        let second = file_digest(&file).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, digest_of(b"two"));
        assert_eq!(times_read(&file), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
