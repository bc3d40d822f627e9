//! The native log and clock: per-thread (so per-test) records behind
//! [`testing`](crate::testing)'s log capture and frozen clock.

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::log::Level;
use crate::testing::LogLine;

thread_local! {
    /// The lines logged on this thread (each test runs on its own thread).
    static LOG_LINES: RefCell<Vec<LogLine>> = const { RefCell::new(Vec::new()) };
    /// The least severe level recorded on this thread.
    static LOG_LEVEL: Cell<Level> = const { Cell::new(Level::Trace) };
    /// The frozen `(wall clock, monotonic nanos)` of this thread, if a test froze the clock.
    static FROZEN_CLOCK: Cell<Option<(SystemTime, u64)>> = const { Cell::new(None) };
}

pub(crate) fn log_enabled(level: Level) -> bool {
    level >= LOG_LEVEL.with(Cell::get)
}

pub(crate) fn log_write(level: Level, message: &str, fields: &[(&str, &str)]) {
    if log_enabled(level) {
        let fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let line = LogLine {
            level,
            message: message.to_owned(),
            fields,
        };
        LOG_LINES.with(|lines| lines.borrow_mut().push(line));
    }
}

pub(crate) fn set_log_level(level: Level) {
    LOG_LEVEL.with(|cell| cell.set(level));
}

pub(crate) fn take_log_lines() -> Vec<LogLine> {
    LOG_LINES.with(|lines| lines.take())
}

pub(crate) fn log_lines() -> Vec<LogLine> {
    LOG_LINES.with(|lines| lines.borrow().clone())
}

pub(crate) fn now() -> (u64, u32) {
    let now = FROZEN_CLOCK
        .with(Cell::get)
        .map_or_else(SystemTime::now, |(wall, _)| wall);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since_epoch.as_secs(), since_epoch.subsec_nanos())
}

pub(crate) fn monotonic_nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let real =
        || u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX);
    FROZEN_CLOCK
        .with(Cell::get)
        .map_or_else(real, |(_, monotonic)| monotonic)
}

pub(crate) fn set_frozen_clock(clock: Option<(SystemTime, u64)>) {
    FROZEN_CLOCK.with(|cell| cell.set(clock));
}

pub(crate) fn frozen_clock() -> Option<(SystemTime, u64)> {
    FROZEN_CLOCK.with(Cell::get)
}
