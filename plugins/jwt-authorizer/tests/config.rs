//! Config loading: every invalid config in `fixtures/config/invalid/` is refused with a message
//! naming the key (snapshot-tested; the first line of each fixture says what is wrong), and the
//! full example in `fixtures/config/valid/` loads.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use jwt_authorizer::JwtAuthorizer;
use wasmgate_plugin_sdk::InitError;
use wasmgate_plugin_sdk::testing;

/// Loads a fixture as the gateway would: the TOML `config` table, passed as JSON.
fn init(path: &Path) -> Result<JwtAuthorizer, InitError> {
    let text = std::fs::read_to_string(path).expect("fixture");
    let table: toml::Table = toml::from_str(&text).expect("fixture is TOML");
    let config = serde_json::to_value(table).expect("TOML as JSON");
    testing::init::<JwtAuthorizer>(config)
}

#[test]
fn invalid_configs_are_refused_with_messages_naming_the_key() {
    insta::glob!("fixtures/config/invalid", "*.toml", |path| {
        match init(path) {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(err) => insta::assert_snapshot!(err.to_string()),
        }
    });
}

#[test]
fn the_full_example_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/valid/full.toml");
    let plugin = init(&path).unwrap_or_else(|err| panic!("{err}"));
    assert!(format!("{plugin:?}").contains("inline_keys: 5"));
}
