//! Every invalid config in `fixtures/config/invalid/` is refused with a precise message (file,
//! line, key, help), snapshot-tested; the first line of each fixture says what is wrong.

use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
async fn invalid_configs_are_refused_with_precise_messages() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::glob!("../fixtures/config/invalid", "*.toml", |path| {
        let relative = path
            .strip_prefix(manifest_dir)
            .expect("fixture inside the crate");
        let result = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(wasmgate::check(relative))
        });
        let errors = match result {
            Ok(_) => panic!("{} was accepted", relative.display()),
            Err(errors) => errors,
        };
        // Resolved plugin paths are absolute: show them relative to the repository.
        let root = manifest_dir
            .parent()
            .expect("workspace root")
            .display()
            .to_string();
        insta::assert_snapshot!(errors.to_string().replace(&root, "[ROOT]"));
    });
}
