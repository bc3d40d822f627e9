//! Builds wasmgate plugin crates into `wasm32-wasip2` components from a build script.
//!
//! A build script (`build.rs`) calls [`build_plugins`] with the packages of its workspace that are
//! plugins. They are compiled in release mode by a nested `cargo build` into a separate target
//! directory (so it never waits on the outer build's lock), and each component is copied to
//! `<workspace>/target/plugins/<crate_name>.wasm`, where configs and tests find it.
//!
//! ```no_run
//! // In build.rs's `main`:
//! wasmgate_plugin_builder::build_plugins(&["require-api-key"]).expect("plugins build");
//! ```
//!
//! Set `WASMGATE_SKIP_PLUGIN_BUILD=1` to skip the nested build (e.g. for documentation builds).
//!
//! [`build_crate`] builds one plugin crate anywhere on disk (in this workspace or its own) with
//! the same target and release settings: `wasmgate plugin build` uses it.

use std::env;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target plugins are compiled for.
pub const PLUGIN_TARGET: &str = "wasm32-wasip2";

/// Why the plugins could not be built.
#[derive(Debug)]
pub struct BuildError(String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Builds the named workspace packages as components and copies each to
/// `<workspace>/target/plugins/<crate_name>.wasm`. Returns that directory.
///
/// Emits `cargo:rerun-if-changed` for the workspace's `wit/`, `plugin-sdk/` and each package's
/// directory, so the outer build only re-runs the nested one when plugin sources change.
pub fn build_plugins(packages: &[&str]) -> Result<PathBuf, BuildError> {
    let workspace = workspace_root()?;
    let out_dir = workspace.join("target").join("plugins");
    println!("cargo:rerun-if-env-changed=WASMGATE_SKIP_PLUGIN_BUILD");
    if env::var_os("WASMGATE_SKIP_PLUGIN_BUILD").is_some() {
        return Ok(out_dir);
    }
    for dir in [
        "wit",
        "plugin-sdk/src",
        "plugin-sdk/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    let metadata = package_dirs(&workspace, packages)?;
    for dir in &metadata {
        println!("cargo:rerun-if-changed={}", dir.join("src").display());
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("Cargo.toml").display()
        );
    }

    ensure_target_installed()?;
    let nested_target = out_dir.join("build");
    let package_args = packages.iter().flat_map(|package| ["-p", package]);
    nested_build(&workspace, &nested_target, package_args).map_err(|status| {
        BuildError(format!(
            "building plugins {packages:?} for {PLUGIN_TARGET} failed ({status}); run \
             `cargo build --release --target {PLUGIN_TARGET} -p <plugin>` to see why"
        ))
    })?;

    let built = nested_target.join(PLUGIN_TARGET).join("release");
    for package in packages {
        let file = format!("{}.wasm", package.replace('-', "_"));
        copy_if_changed(&built.join(&file), &out_dir.join(&file))?;
    }
    Ok(out_dir)
}

/// Builds one more component of an already listed package, with cargo `features` on, as
/// `<workspace>/target/plugins/<file_stem>.wasm` (e.g. the JWT authorizer with its `kv` cache
/// as `jwt_authorizer_cached.wasm`). Call it after [`build_plugins`], which emits the
/// rerun-if-changed lines for the package.
pub fn build_plugin_variant(
    package: &str,
    features: &[&str],
    file_stem: &str,
) -> Result<PathBuf, BuildError> {
    let workspace = workspace_root()?;
    let out_dir = workspace.join("target").join("plugins");
    if env::var_os("WASMGATE_SKIP_PLUGIN_BUILD").is_some() {
        return Ok(out_dir);
    }
    // Its own target directory: a cdylib's file name carries no feature hash, so two feature
    // sets built into one directory would overwrite each other's component.
    let nested_target = out_dir.join(format!("build-{file_stem}"));
    let features = features.join(",");
    let args = ["-p", package, "--features", features.as_str()];
    nested_build(&workspace, &nested_target, args).map_err(|status| {
        BuildError(format!(
            "building plugin {package} with features [{features}] for {PLUGIN_TARGET} failed \
             ({status}); run `cargo build --release --target {PLUGIN_TARGET} -p {package} \
             --features {features}` to see why"
        ))
    })?;
    let built = nested_target.join(PLUGIN_TARGET).join("release");
    let file = format!("{}.wasm", package.replace('-', "_"));
    copy_if_changed(
        &built.join(file),
        &out_dir.join(format!("{file_stem}.wasm")),
    )?;
    Ok(out_dir)
}

/// Builds the plugin crate whose manifest is `manifest` (a `cdylib`, anywhere on disk) for
/// `wasm32-wasip2` in release, without debug info (function names kept for backtraces) and
/// LTO'd like the built-in plugins, into `target_dir`,
/// installing the target with rustup first if it is missing. `artifact` is the library's file
/// stem (the crate name with `-` as `_`). Returns the component's path,
/// `<target_dir>/wasm32-wasip2/release/<artifact>.wasm`. Cargo's own output goes to stderr.
pub fn build_crate(
    manifest: &Path,
    target_dir: &Path,
    artifact: &str,
) -> Result<PathBuf, BuildError> {
    ensure_target_installed()?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let manifest_arg = manifest.to_string_lossy();
    let args = ["--manifest-path", manifest_arg.as_ref()];
    nested_build(dir, target_dir, args).map_err(|status| {
        BuildError(format!(
            "building {} for {PLUGIN_TARGET} failed ({status}); cargo's messages above say why",
            manifest.display()
        ))
    })?;
    let wasm = target_dir
        .join(PLUGIN_TARGET)
        .join("release")
        .join(format!("{artifact}.wasm"));
    if wasm.is_file() {
        Ok(wasm)
    } else {
        Err(BuildError(format!(
            "the build succeeded but {} is missing: is the crate a `cdylib` named `{artifact}`?",
            wasm.display()
        )))
    }
}

/// Runs the nested `cargo build --release --target wasm32-wasip2` with `args` (packages,
/// features, a manifest) in `dir` into `nested_target`, with the plugins' release settings. The
/// error is the exit status, or why cargo could not run.
fn nested_build<'a>(
    dir: &Path,
    nested_target: &Path,
    args: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .args([
            "build",
            "--release",
            "--target",
            PLUGIN_TARGET,
            "--target-dir",
        ])
        .arg(nested_target)
        .args(args);
    // Plugins ship without debug info or line tables (they were 3–17 MB each with the
    // workspace's release profile; stripped and LTO'd they are a fraction of that), which also
    // makes compiling them at load quicker. Speed stays at opt-level 3. The name section is
    // kept (`strip = "debuginfo"`, ~15 % of a small plugin's size): a trap's Wasm backtrace in
    // the gateway's log then names each function instead of `<wasm function 79>`.
    for (var, value) in [
        ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
        ("CARGO_PROFILE_RELEASE_STRIP", "debuginfo"),
        ("CARGO_PROFILE_RELEASE_LTO", "true"),
        ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
        ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
    ] {
        command.env(var, value);
    }
    // The outer build's settings (clippy's wrapper, flags for the host target) must not leak
    // into the plugins' build.
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_NAME",
    ] {
        command.env_remove(var);
    }
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(status.to_string()),
        Err(e) => Err(format!("cannot run cargo: {e}")),
    }
}

/// The workspace root: the nearest ancestor of the calling package with a `[workspace]` manifest.
fn workspace_root() -> Result<PathBuf, BuildError> {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| BuildError("CARGO_MANIFEST_DIR is not set: call from build.rs".into()))?;
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| BuildError(format!("no workspace above {}", manifest_dir.display())))
}

/// The directories of the named packages, found by their `name = "…"` line in a manifest under
/// `plugins/`, `examples/`, `tests/plugins/` or `bench/plugins/`.
fn package_dirs(workspace: &Path, packages: &[&str]) -> Result<Vec<PathBuf>, BuildError> {
    let mut found = Vec::new();
    for package in packages {
        let wanted = format!("name = \"{package}\"");
        let dir = ["plugins", "examples", "tests/plugins", "bench/plugins"]
            .iter()
            .filter_map(|parent| std::fs::read_dir(workspace.join(parent)).ok())
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|dir| {
                std::fs::read_to_string(dir.join("Cargo.toml"))
                    .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == wanted))
            })
            .ok_or_else(|| BuildError(format!("no plugin package named `{package}`")))?;
        found.push(dir);
    }
    Ok(found)
}

/// Installs the `wasm32-wasip2` standard library with rustup when it is missing.
fn ensure_target_installed() -> Result<(), BuildError> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| BuildError(format!("cannot run rustc: {e}")))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(PLUGIN_TARGET).exists() {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", PLUGIN_TARGET])
        .status()
        .map_err(|e| {
            BuildError(format!(
                "the {PLUGIN_TARGET} target is missing and rustup could not run: {e}"
            ))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError(format!(
            "`rustup target add {PLUGIN_TARGET}` failed ({status})"
        )))
    }
}

/// Copies `from` to `to` unless `to` already has the same bytes (keeps mtimes stable so file
/// watchers and caches do not see spurious changes).
fn copy_if_changed(from: &Path, to: &Path) -> Result<(), BuildError> {
    let new = std::fs::read(from)
        .map_err(|e| BuildError(format!("built plugin {} is missing: {e}", from.display())))?;
    if std::fs::read(to).is_ok_and(|old| old == new) {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| BuildError(format!("cannot create {}: {e}", parent.display())))?;
    }
    // Write next to the destination and rename, so a running gateway never reads half a file.
    let tmp = to.with_extension("wasm.tmp");
    std::fs::write(&tmp, &new)
        .and_then(|()| std::fs::rename(&tmp, to))
        .map_err(|e| BuildError(format!("cannot write {}: {e}", to.display())))
}
