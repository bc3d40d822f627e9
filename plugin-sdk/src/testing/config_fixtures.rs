//! Snapshot tests of a plugin's config errors: each `<case>.toml` in a directory (the plugin's
//! `config` table, as an operator writes it) must be refused by `init` with exactly the message
//! in `<case>.txt` next to it.

use std::fs;
use std::path::Path;

use crate::{InitError, Plugin};

/// Checks every `<case>.toml` in `dir` against its `<case>.txt`, reporting all mismatches at
/// once. With the `BLESS` environment variable set, writes the messages instead.
pub fn assert_invalid_config_fixtures<P: Plugin>(dir: &Path) {
    let mut cases: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no `*.toml` cases in {}", dir.display());
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in cases {
        let toml = fs::read_to_string(&case).unwrap();
        let config: serde_json::Value =
            toml::from_str(&toml).unwrap_or_else(|e| panic!("{}: not TOML: {e}", case.display()));
        let message = match super::init::<P>(config) {
            Err(InitError::InvalidConfig(message)) => message,
            Err(other) => panic!(
                "{}: expected an invalid config, got {other:?}",
                case.display()
            ),
            Ok(_) => panic!("{}: expected an invalid config, it loaded", case.display()),
        };
        let expected_path = case.with_extension("txt");
        if bless {
            fs::write(&expected_path, format!("{message}\n")).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim_end() != message {
            mismatches.push(format!(
                "{}:\n  expected: {}\n  actual:   {message}",
                case.display(),
                expected.trim_end()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
