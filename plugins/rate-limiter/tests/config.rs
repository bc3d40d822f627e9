//! Invalid configs and the exact messages the gateway shows for them: each
//! `fixtures/config/invalid/<case>.toml` (the plugin's `config` table) next to `<case>.txt`.
//! `BLESS=1 cargo test -p rate_limiter --test config` rewrites the expected messages.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

use rate_limiter::RateLimiter;
use wasmgate_plugin_sdk::InitError;
use wasmgate_plugin_sdk::testing;

#[test]
fn invalid_configs_are_refused_with_their_snapshot_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in cases {
        let toml = fs::read_to_string(&case).unwrap();
        let config: serde_json::Value = toml::from_str(&toml).unwrap();
        let message = match testing::init::<RateLimiter>(config) {
            Err(InitError::InvalidConfig(message)) => message,
            other => panic!(
                "{}: expected an invalid config, got {other:?}",
                case.display()
            ),
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
