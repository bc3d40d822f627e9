//! `runaway`: a test-only plugin that fails on demand, like `misbehave`, but imports nothing that
//! can wait (no WASI sleep), so the gateway calls it synchronously, on the worker thread without
//! a fiber. The end-to-end tests check that the synchronous path keeps the same limits: the
//! epoch deadline stops a loop, the memory cap stops a hoard, a trap discards the instance.
//!
//! Config: `{ "mode": "trap" | "loop" | "grow-memory" | "none" }`. The plugin runs at the method
//! request stage; with `none` it also sets response header `x-runaway: none` at method
//! response, so a test sees it ran.

use serde::Deserialize;
use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Response, Stages};

/// How the plugin fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Panic: the instance traps.
    Trap,
    /// Spin forever.
    Loop,
    /// Allocate and touch memory without end.
    GrowMemory,
    /// Behave, and mark the response with `x-runaway: none`.
    None,
}

/// The plugin's config: `{ "mode": "loop" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to fail.
    mode: Mode,
}

/// The `runaway` plugin.
#[derive(Debug)]
pub struct Runaway {
    mode: Mode,
}

/// Loops forever; `black_box` keeps the optimiser from proving the loop useless.
fn spin() -> ! {
    let mut turns = 0_u64;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

/// Allocates 1 MiB chunks of non-zero bytes (so every page is written) and keeps them all.
fn hoard() -> ! {
    const CHUNK: usize = 1 << 20;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![0x5a; CHUNK]);
        std::hint::black_box(&mut kept);
    }
}

impl Plugin for Runaway {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(Runaway { mode: config.mode })
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE
    }

    fn on_method_request(&self, _: &mut Request<'_>, _: &mut Context<'_>) -> Action {
        match self.mode {
            Mode::Trap => panic!("runaway: trap"),
            Mode::Loop => spin(),
            Mode::GrowMemory => hoard(),
            Mode::None => Action::Continue,
        }
    }

    fn on_method_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        _: &mut Context<'_>,
    ) -> Action {
        if self.mode == Mode::None {
            let _ = response.set_header("x-runaway", "none");
        }
        Action::Continue
    }
}

wasmgate_plugin_sdk::export_plugin!(Runaway);
