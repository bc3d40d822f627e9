//! The plugin developer kit behind `wasmgate plugin new | build | test`:
//!
//! - [`new_plugin`] — scaffold a plugin crate (config struct, a handler per stage, native
//!   tests on the SDK's fake host, a README, `fixtures/basic.toml`);
//! - [`build_plugin`] — compile it into a `wasm32-wasip2` component (no debug info, function
//!   names kept for trap backtraces), and list the capabilities it imports;
//! - [`run_fixture_dir`] — run `fixtures/*.toml` against a compiled component in the real
//!   plugin host ([`fixtures`] describes the format), reporting a diff per failed case.
//!
//! The built-in plugins' fixture suites run through the same runner in `cargo test`.

mod build;
mod check;
mod diff;
pub mod fixtures;
mod report;
mod run;
mod scaffold;
mod templates;

use std::path::Path;

pub use build::{BuiltPlugin, build_plugin, crate_dir, default_target_dir};
pub use diff::Mismatch;
pub use report::{CaseReport, FileReport, FixtureReport};
pub use run::{CLIENT_IP, REQUEST_ID, ROUTE_ID, fixture_engine, run_fixture_dir, run_fixture_file};
pub use scaffold::{NewPlugin, SCAFFOLD_STAGES, new_plugin, sdk_dir};

/// `wasmgate plugin test`: builds the crate in `crate_dir` into `target_dir` (cargo is
/// incremental: an unchanged crate costs a second), then runs its `fixtures/*.toml` against
/// the component. Returns what was built and the report (which may hold failures).
pub async fn test_plugin(
    crate_dir: &Path,
    target_dir: &Path,
) -> Result<(BuiltPlugin, FixtureReport), String> {
    let engine = fixture_engine(None)?;
    // Cargo runs for seconds: off the async worker threads.
    let built = {
        let (engine, crate_dir, target_dir) =
            (engine.clone(), crate_dir.to_owned(), target_dir.to_owned());
        tokio::task::spawn_blocking(move || build_plugin(&engine, &crate_dir, &target_dir))
            .await
            .map_err(|e| format!("the build task failed: {e}"))??
    };
    let fixtures = crate_dir.join("fixtures");
    if !fixtures.is_dir() {
        return Err(format!(
            "no fixtures directory in {}: add fixtures/*.toml (see the crate's README)",
            crate_dir.display()
        ));
    }
    let report = run_fixture_dir(&engine, &built.wasm, &fixtures).await?;
    Ok((built, report))
}
