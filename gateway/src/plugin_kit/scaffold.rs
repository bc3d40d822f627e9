//! `wasmgate plugin new`: writes a plugin crate that builds, with a config struct, a handler
//! per chosen stage, native tests on the SDK's fake host, a README and a fixture file.

use std::path::{Path, PathBuf};

use super::templates::Template;
use crate::config::Capability;
use crate::exchange::Stage;

/// The SDK crate of the checkout this binary was built from: new crates depend on it by path.
/// (A `wasmgate` binary moved away from its checkout writes a path that no longer exists.)
pub fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk")
}

/// What `wasmgate plugin new` is asked to make.
#[derive(Debug, Clone)]
pub struct NewPlugin {
    /// The crate name: lowercase ASCII letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// The stages it implements (empty: `method-request`).
    pub stages: Vec<Stage>,
    /// The capabilities it uses, each by its `grants` name.
    pub capabilities: Vec<String>,
    /// Where to write it (default: `./<name>`); must be missing or empty.
    pub dir: Option<PathBuf>,
}

/// The stages a plugin may be scaffolded for (the log stage has nothing to edit).
pub const SCAFFOLD_STAGES: [Stage; 4] = [
    Stage::MethodRequest,
    Stage::IntegrationRequest,
    Stage::IntegrationResponse,
    Stage::MethodResponse,
];

/// Writes the crate and returns its directory.
pub fn new_plugin(request: &NewPlugin) -> Result<PathBuf, String> {
    check_name(&request.name)?;
    let capabilities = capabilities(&request.capabilities)?;
    let mut stages: Vec<Stage> = SCAFFOLD_STAGES
        .into_iter()
        .filter(|stage| request.stages.contains(stage))
        .collect();
    if let Some(log) = request.stages.iter().find(|s| !SCAFFOLD_STAGES.contains(s)) {
        return Err(format!(
            "cannot scaffold the `{log}` stage: choose from method-request, integration-request, integration-response, method-response"
        ));
    }
    if stages.is_empty() {
        stages.push(Stage::MethodRequest);
    }
    let dir = request
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&request.name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} already exists and is not empty: choose another NAME or --dir",
            dir.display()
        ));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} exists and is not a directory", dir.display()));
    }
    let sdk = sdk_dir();
    let sdk = sdk.canonicalize().map_err(|e| {
        format!(
            "the plugin SDK this wasmgate was built from is not at {} ({e}): run `plugin new` \
             from a wasmgate checkout's own build (`cargo run --release -- plugin new …`)",
            sdk.display()
        )
    })?;
    let sdk_path = sdk.display().to_string();
    let template = Template {
        name: &request.name,
        stages: &stages,
        capabilities: &capabilities,
        sdk_path: &sdk_path,
    };
    let test_file = format!("tests/{}.rs", request.name.replace('-', "_"));
    let files = [
        ("Cargo.toml", template.cargo_toml()),
        (".gitignore", template.gitignore()),
        ("src/lib.rs", template.lib_rs()),
        (test_file.as_str(), template.native_tests()),
        ("fixtures/basic.toml", template.basic_fixture()),
        ("README.md", template.readme()),
    ];
    for (file, text) in files {
        write(&dir.join(file), text.as_bytes())?;
    }
    // The templates are close to rustfmt's style, not exactly it: let rustfmt finish the job
    // when it is installed (the crate builds either way).
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(dir.join("src/lib.rs"))
        .arg(dir.join(&test_file))
        .stderr(std::process::Stdio::null())
        .status();
    // The checkout's lock file pins the SDK's dependencies to the versions the gateway was
    // tested with, and lets the new crate build offline from the local cargo cache.
    if let Ok(lock) = std::fs::read(sdk.join("../Cargo.lock")) {
        write(&dir.join("Cargo.lock"), &lock)?;
    }
    Ok(dir)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Refuses a name cargo (or Rust, as the library's name) would not take.
fn check_name(name: &str) -> Result<(), String> {
    const TAKEN: [&str; 12] = [
        "core",
        "std",
        "alloc",
        "test",
        "proc_macro",
        "self",
        "super",
        "crate",
        "serde",
        "serde_json",
        "wasmgate",
        "wasmgate_plugin_sdk",
    ];
    let fix = "use lowercase ASCII letters, digits, `-` and `_`, starting with a letter, e.g. `hello` or `add-header`";
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if name.is_empty() || name.len() > 64 || !starts_with_letter || !valid_chars {
        return Err(format!("invalid plugin name `{name}`: {fix}"));
    }
    if TAKEN.contains(&name.replace('-', "_").as_str()) {
        return Err(format!(
            "invalid plugin name `{name}`: it is taken by a crate the plugin uses or by Rust; choose another"
        ));
    }
    Ok(())
}

/// The capabilities named (by their `grants` names), each once, in [`Capability::ALL`] order;
/// an unknown name is refused with the list of known ones. `wasmgate plugin test` reads a
/// fixture's `grants` with it too.
pub(super) fn capabilities(names: &[String]) -> Result<Vec<Capability>, String> {
    let mut chosen = Vec::new();
    for name in names {
        let capability = Capability::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Capability::ALL.iter().map(|c| c.as_str()).collect();
            format!(
                "unknown capability `{name}`: choose from {}",
                known.join(", ")
            )
        })?;
        chosen.push(capability);
    }
    Ok(Capability::ALL
        .into_iter()
        .filter(|c| chosen.contains(c))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_cargo_would_not_take() {
        for name in [
            "",
            "Hello",
            "1st",
            "-x",
            "with space",
            "a/b",
            "std",
            "serde-json",
        ] {
            assert!(check_name(name).is_err(), "{name:?} was accepted");
        }
        for name in ["hello", "add-header", "v2_auth"] {
            assert_eq!(check_name(name), Ok(()));
        }
    }

    #[test]
    fn refuses_an_unknown_capability_naming_the_known_ones() {
        let error = capabilities(&["kv".into(), "files".into()]).unwrap_err();
        assert_eq!(
            error,
            "unknown capability `files`: choose from rate-limit, kv, metrics, crypto"
        );
    }

    #[test]
    fn refuses_an_existing_non_empty_directory() {
        let dir = std::env::temp_dir().join(format!("wasmgate-scaffold-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep.txt"), "mine").unwrap();
        let request = NewPlugin {
            name: "hello".into(),
            stages: vec![],
            capabilities: vec![],
            dir: Some(dir.clone()),
        };
        let error = new_plugin(&request).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.contains("already exists and is not empty"), "{error}");
    }
}
