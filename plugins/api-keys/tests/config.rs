//! Invalid configs and the exact messages the gateway shows for them: each
//! `fixtures/config/invalid/<case>.toml` (the plugin's `config` table) next to `<case>.txt`.
//! `BLESS=1 cargo test -p api_keys --test config` rewrites the expected messages.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use api_keys::ApiKeys;
use wasmgate_plugin_sdk::testing;

#[test]
fn invalid_configs_are_refused_with_their_snapshot_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid");
    testing::assert_invalid_config_fixtures::<ApiKeys>(&dir);
}
