//! A file of lines written by a dedicated thread, so a slow disk never slows a request: the
//! access log and the request recording. When the writer falls behind (or the write fails),
//! lines are dropped and counted under the writer's counter rather than blocking traffic.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Duration;

/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 16 * 1024;

/// How long the writer lets lines gather after writing a batch. Waking it for every line costs
/// a futex wake and a context switch per request (measured: it halved throughput on 2 cores);
/// this bounds the wake-ups to 200 a second, and a line's delay to 5 ms.
const GATHER: Duration = Duration::from_millis(5);

/// The sending side of a line writer thread.
pub struct LineWriter {
    lines: SyncSender<String>,
    dropped_counter: &'static str,
    /// Bytes queued and their bound, for writers of large lines (`None`: lines are counted
    /// only, for small ones such as access log lines).
    queued_bytes: Option<(Arc<AtomicUsize>, usize)>,
}

impl LineWriter {
    /// Starts a thread named `thread` writing lines to `out`; lines dropped count under the
    /// counter `dropped_counter`.
    pub fn start(
        thread: &str,
        out: Box<dyn Write + Send>,
        dropped_counter: &'static str,
    ) -> std::io::Result<Self> {
        Self::spawn(thread, out, dropped_counter, None)
    }

    /// Like [`LineWriter::append_to`], for lines that may be large: lines that would take the
    /// bytes waiting for the writer past `max_queued_bytes` are dropped.
    pub fn append_bounded(
        file: &std::path::Path,
        thread: &str,
        dropped_counter: &'static str,
        max_queued_bytes: usize,
    ) -> std::io::Result<Self> {
        let out = Box::new(open_append(file)?);
        Self::spawn(thread, out, dropped_counter, Some(max_queued_bytes))
    }

    fn spawn(
        thread: &str,
        out: Box<dyn Write + Send>,
        dropped_counter: &'static str,
        max_queued_bytes: Option<usize>,
    ) -> std::io::Result<Self> {
        let queued_bytes = max_queued_bytes.map(|max| (Arc::new(AtomicUsize::new(0)), max));
        let written = queued_bytes.as_ref().map(|(queued, _)| queued.clone());
        let (lines, queue) = std::sync::mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || write_lines(queue, out, dropped_counter, written))?;
        Ok(LineWriter {
            lines,
            dropped_counter,
            queued_bytes,
        })
    }

    /// Appends `file` (absolute) through a new writer thread.
    pub fn append_to(
        file: &std::path::Path,
        thread: &str,
        dropped_counter: &'static str,
    ) -> std::io::Result<Self> {
        Self::start(thread, Box::new(open_append(file)?), dropped_counter)
    }

    /// Queues `line`, which ends with `\n` (never blocks); `false` when it was dropped (and
    /// counted) because the writer is behind.
    pub fn send(&self, line: String) -> bool {
        let size = line.len();
        if let Some((queued, max)) = &self.queued_bytes
            && queued.fetch_add(size, Ordering::Relaxed) + size > *max
        {
            queued.fetch_sub(size, Ordering::Relaxed);
            metrics::counter!(self.dropped_counter).increment(1);
            return false;
        }
        if self.lines.try_send(line).is_err() {
            if let Some((queued, _)) = &self.queued_bytes {
                queued.fetch_sub(size, Ordering::Relaxed);
            }
            metrics::counter!(self.dropped_counter).increment(1);
            return false;
        }
        true
    }
}

fn open_append(file: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
}

/// Writes queued lines in batches: each batch is one `write` of whole lines (so two writers
/// appending to one file across a reload never interleave within a line), flushed when the
/// queue runs dry; a writer that emptied the queue waits [`GATHER`] for the next batch to build
/// up (one that did not keeps writing).
fn write_lines(
    queue: Receiver<String>,
    mut out: Box<dyn Write + Send>,
    dropped: &'static str,
    queued_bytes: Option<Arc<AtomicUsize>>,
) {
    let mut batch = String::new();
    let taken = |line: &str| {
        if let Some(queued) = &queued_bytes {
            queued.fetch_sub(line.len(), Ordering::Relaxed);
        }
    };
    while let Ok(first) = queue.recv() {
        taken(&first);
        batch.push_str(&first);
        let mut ran_dry = false;
        while batch.len() < 64 * 1024 {
            match queue.try_recv() {
                Ok(line) => {
                    taken(&line);
                    batch.push_str(&line);
                }
                Err(_) => {
                    ran_dry = true;
                    break;
                }
            }
        }
        if out
            .write_all(batch.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            metrics::counter!(dropped).increment(1);
        }
        batch.clear();
        if ran_dry {
            std::thread::sleep(GATHER);
        }
    }
}
