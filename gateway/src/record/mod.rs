//! Record and replay: `[record]` writes sampled requests of chosen routes, with what every
//! stage and plugin did to them, to a JSON-lines file (secrets redacted); `wasmgate replay`
//! runs those requests through the chains of a config, without a listener or a backend, and
//! shows where the outcome differs.
//!
//! - [`line`] — the file's format;
//! - [`view`] — the exchange as JSON, captured and turned back;
//! - [`redact`] — what a recording never holds;
//! - [`recorder`] — sampling and capturing on the request path;
//! - [`replay`] — running a recording again, and the report.

pub mod line;
pub mod recorder;
pub mod redact;
pub mod replay;
pub mod view;

pub use recorder::{Recorder, Recording, open_recorder};
pub use replay::report::Verdict;
pub use replay::{ReplayReport, replay_file};
