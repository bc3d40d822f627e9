//! `misbehave`: a test-only plugin that fails on demand, so the gateway's end-to-end tests can
//! check its limits (epoch deadline, memory cap), that a failed instance is discarded, and the
//! `closed` / `open` failure policies.
//!
//! Config: `{ "mode": "trap" | "loop" | "grow-memory" | "sleep" | "pause" | "edit-then-trap" |
//! "none", "stage": "method-request", "pause_ms": 100 }`
//! (`stage` defaults to `method-request`). The plugin declares `stage`; at it:
//!
//! - `trap`: panics (`misbehave: trap at <stage>`), which traps the instance;
//! - `loop`: spins forever (only the gateway's deadline stops it);
//! - `grow-memory`: allocates 1 MiB chunks filled with non-zero bytes and keeps them, forever
//!   (only the gateway's memory cap stops it: the failed allocation aborts);
//! - `sleep`: blocks a minute in a WASI sleep (a host call, out of reach of epoch ticks);
//! - `pause`: blocks `pause_ms` (default 100) in a WASI sleep, then continues: an instance
//!   kept busy for a known time, for the pool and overload tests;
//! - `edit-then-trap`: sets `x-partial: 1` on the request (or the response, at a response-side
//!   stage), then panics;
//! - `none`: continues. With `none` the plugin also declares method response and sets response
//!   header `x-misbehave: none` there, so a test sees it ran.

use serde::Deserialize;
use wasmgate_plugin_sdk::{Action, Context, InitError, Plugin, Request, Response, Stage, Stages};

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
    /// Block in a host call (a WASI sleep of a minute), where epoch ticks cannot reach it.
    Sleep,
    /// Block `pause_ms` in a WASI sleep, then continue.
    Pause,
    /// Edit the request (request side) or response (response side) with `x-partial: 1`, then
    /// panic: the edit must not survive the failure.
    EditThenTrap,
    /// Behave, and mark the response with `x-misbehave: none`.
    None,
}

/// The plugin's config: `{ "mode": "loop", "stage": "integration-request" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to fail.
    mode: Mode,
    /// Where to fail; default `method-request`.
    #[serde(default = "default_stage")]
    stage: Stage,
    /// How long `pause` blocks; default 100 ms.
    #[serde(default = "default_pause_ms")]
    pause_ms: u64,
}

fn default_pause_ms() -> u64 {
    100
}

fn default_stage() -> Stage {
    Stage::MethodRequest
}

/// The `misbehave` plugin.
#[derive(Debug)]
pub struct Misbehave {
    mode: Mode,
    stage: Stage,
    pause: std::time::Duration,
}

impl Misbehave {
    /// Runs at every stage called: misbehaves at the configured one.
    fn at(&self, stage: Stage) {
        if stage != self.stage {
            return;
        }
        match self.mode {
            Mode::Trap => panic!("misbehave: trap at {stage}"),
            Mode::Loop => spin(),
            Mode::GrowMemory => hoard(),
            Mode::Sleep => std::thread::sleep(std::time::Duration::from_secs(60)),
            Mode::Pause => std::thread::sleep(self.pause),
            Mode::EditThenTrap => panic!("misbehave: trap after editing at {stage}"),
            Mode::None => {}
        }
    }
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
        kept.push(vec![0xa5; CHUNK]);
        std::hint::black_box(&mut kept);
    }
}

impl Plugin for Misbehave {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        Ok(Misbehave {
            mode: config.mode,
            stage: config.stage,
            pause: std::time::Duration::from_millis(config.pause_ms),
        })
    }

    fn stages(&self) -> Stages {
        match self.mode {
            Mode::None => Stages::of(self.stage) | Stages::METHOD_RESPONSE,
            _ => Stages::of(self.stage),
        }
    }

    fn on_method_request(&self, request: &mut Request<'_>, _: &mut Context<'_>) -> Action {
        if self.mode == Mode::EditThenTrap {
            let _ = request.set_header("x-partial", "1");
        }
        self.at(Stage::MethodRequest);
        Action::Continue
    }

    fn on_integration_request(&self, _: &mut Request<'_>, _: &mut Context<'_>) -> Action {
        self.at(Stage::IntegrationRequest);
        Action::Continue
    }

    fn on_integration_response(
        &self,
        _: &Request<'_>,
        _: &mut Response<'_>,
        _: &mut Context<'_>,
    ) -> Action {
        self.at(Stage::IntegrationResponse);
        Action::Continue
    }

    fn on_method_response(
        &self,
        _: &Request<'_>,
        response: &mut Response<'_>,
        _: &mut Context<'_>,
    ) -> Action {
        if self.mode == Mode::EditThenTrap {
            let _ = response.set_header("x-partial", "1");
        }
        self.at(Stage::MethodResponse);
        if self.mode == Mode::None {
            response
                .set_header("x-misbehave", "none")
                .expect("response is editable");
        }
        Action::Continue
    }

    fn on_log(&self, _: &Request<'_>, _: &Response<'_>, _: &Context<'_>) {
        self.at(Stage::Log);
    }
}

wasmgate_plugin_sdk::export_plugin!(Misbehave);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::json;
    use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};

    use super::*;

    fn plugin(config: serde_json::Value) -> Misbehave {
        testing::init::<Misbehave>(config).expect("valid config")
    }

    #[test]
    fn declares_the_configured_stage_defaulting_to_method_request() {
        assert_eq!(
            plugin(json!({ "mode": "loop" })).stages(),
            Stages::METHOD_REQUEST
        );
        let grow = plugin(json!({ "mode": "grow-memory", "stage": "log" }));
        assert_eq!(grow.stages(), Stages::LOG);
    }

    #[test]
    fn none_continues_and_marks_the_response() {
        let plugin = plugin(json!({ "mode": "none", "stage": "integration-request" }));
        assert_eq!(
            plugin.stages(),
            Stages::INTEGRATION_REQUEST | Stages::METHOD_RESPONSE
        );
        let mut request = FakeRequest::new("GET", "/");
        let mut response = FakeResponse::new(200);
        let mut context = FakeContext::new();
        let action = testing::integration_request(&plugin, &mut request, &mut context);
        assert_eq!(action, Action::Continue);
        let _ = testing::method_response(&plugin, &request, &mut response, &mut context);
        assert_eq!(response.header_str("x-misbehave"), Some("none"));
    }

    #[test]
    #[should_panic(expected = "misbehave: trap at method-response")]
    fn trap_panics_at_the_configured_stage() {
        let plugin = plugin(json!({ "mode": "trap", "stage": "method-response" }));
        let request = FakeRequest::new("GET", "/");
        let mut response = FakeResponse::new(200);
        let _ = testing::method_response(&plugin, &request, &mut response, &mut FakeContext::new());
    }

    #[test]
    fn rejects_an_unknown_mode_naming_the_key() {
        let err = testing::init::<Misbehave>(json!({ "mode": "explode" })).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid config: `mode`: unknown variant `explode`")
        );
    }
}
