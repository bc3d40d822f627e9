//! `wasmgate plugin build`: compiles a plugin crate into a `wasm32-wasip2` component with the
//! built-in plugins' release settings (through `wasmgate-plugin-builder`), and reads back what
//! the component imports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::plugin::PluginEngine;

/// A component `wasmgate plugin build` produced.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// The `.wasm` file.
    pub wasm: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The capabilities it imports (their `grants` names): a gateway config must grant them.
    pub capabilities: Vec<&'static str>,
}

/// The crate directory a command works on: `path` (default: the current directory), which
/// must hold a `Cargo.toml`.
pub fn crate_dir(path: Option<&Path>) -> Result<PathBuf, String> {
    let dir = path.unwrap_or(Path::new("."));
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "no Cargo.toml in {}: run inside a plugin crate or pass its directory",
            dir.display()
        ));
    }
    Ok(dir.to_path_buf())
}

/// Where a crate's build goes: `CARGO_TARGET_DIR` when set, else `<crate>/target`.
pub fn default_target_dir(crate_dir: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("target"))
}

/// Builds the crate in `crate_dir` into `target_dir` (cargo's output goes to stderr), then
/// compiles the component with `engine` to list its imports.
pub fn build_plugin(
    engine: &Arc<PluginEngine>,
    crate_dir: &Path,
    target_dir: &Path,
) -> Result<BuiltPlugin, String> {
    let manifest = crate_dir.join("Cargo.toml");
    let artifact = artifact_name(&manifest)?;
    let wasm = wasmgate_plugin_builder::build_crate(&manifest, target_dir, &artifact)
        .map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&wasm)
        .map_err(|e| format!("cannot read {}: {e}", wasm.display()))?
        .len();
    let compiled = engine.compile(&wasm).map_err(|e| e.to_string())?;
    let capabilities = compiled
        .imported_capabilities()
        .iter()
        .map(|c| c.as_str())
        .collect();
    Ok(BuiltPlugin {
        wasm,
        size,
        capabilities,
    })
}

/// The library's file stem: `[lib] name`, else the package name with `-` as `_`.
fn artifact_name(manifest: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let name_in = |section: &str| {
        table
            .get(section)
            .and_then(|s| s.get("name"))
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
    };
    name_in("lib")
        .or_else(|| name_in("package"))
        .map(|name| name.replace('-', "_"))
        .ok_or_else(|| format!("{} has no [package] name", manifest.display()))
}

impl std::fmt::Display for BuiltPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kib = self.size as f64 / 1024.0;
        writeln!(f, "built {} ({kib:.1} KiB)", self.wasm.display())?;
        if self.capabilities.is_empty() {
            write!(f, "imports no capabilities (needs no grants)")
        } else {
            let grants: Vec<String> = self.capabilities.iter().map(|c| format!("{c:?}")).collect();
            write!(
                f,
                "imports capabilities: {} (grant them: grants = [{}])",
                self.capabilities.join(", "),
                grants.join(", ")
            )
        }
    }
}
