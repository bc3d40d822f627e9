//! Builds the test-only plugins once for every end-to-end test (the built-in and example
//! plugins are built by the gateway's own build script, into the same directory).

fn main() {
    match wasmgate_plugin_builder::build_plugins(&[
        "stage-probe",
        "misbehave",
        "capability-probe",
        "runaway",
        "edit-probe",
    ]) {
        Ok(dir) => println!("cargo:rustc-env=WASMGATE_PLUGINS_DIR={}", dir.display()),
        Err(error) => {
            println!("cargo:warning={error}");
            std::process::exit(1);
        }
    }
}
