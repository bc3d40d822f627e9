//! Builds the benchmark plugins (the no-op plugin; the built-in ones come from the gateway).

fn main() {
    match wasmgate_plugin_builder::build_plugins(&["noop"]) {
        Ok(dir) => println!("cargo:rustc-env=WASMGATE_PLUGINS_DIR={}", dir.display()),
        Err(error) => {
            println!("cargo:warning={error}");
            std::process::exit(1);
        }
    }
}
