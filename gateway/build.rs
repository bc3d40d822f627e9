//! Builds the built-in and example plugins into `target/plugins/*.wasm`, so that the gateway
//! and the plugins its example configs reference come out of one `cargo build`.

fn main() {
    if let Err(error) = wasmgate_plugin_builder::build_plugins(&[
        "headers",
        "waf",
        "validator",
        "mapper",
        "cors",
        "require-api-key",
        "api_keys",
        "rate_limiter",
        "jwt_authorizer",
    ])
    .and_then(|_| {
        // The JWT authorizer with its token cache, which imports the `kv` store.
        wasmgate_plugin_builder::build_plugin_variant(
            "jwt_authorizer",
            &["cache"],
            "jwt_authorizer_cached",
        )
    }) {
        println!("cargo:warning={error}");
        std::process::exit(1);
    }
}
