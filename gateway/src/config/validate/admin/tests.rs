//! `[admin]`: loopback and other addresses, each error, and the token file read at load.

use std::path::{Path, PathBuf};

use super::super::super::{Config, ConfigError, parse};

const LISTENER: &str = "[[listeners]]\naddress = \"127.0.0.1:8080\"\n";
const TOKEN: &str = "0123456789abcdef";

fn config(admin: &str) -> Result<Config, Vec<ConfigError>> {
    parse(Path::new("gw.toml"), &format!("{LISTENER}[admin]\n{admin}")).map_err(|e| e.0)
}

/// The only error for an `[admin]` table.
fn error(admin: &str) -> ConfigError {
    let mut errors = config(admin).expect_err("an error");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

/// A token file in a fresh directory of its own, removed with it when dropped.
struct TokenFile {
    dir: PathBuf,
    path: PathBuf,
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A file with `text` in a fresh directory of its own.
fn token_file(name: &str, text: &str) -> TokenFile {
    let dir = std::env::temp_dir().join(format!("wasmgate-admin-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token.txt");
    std::fs::write(&path, text).unwrap();
    TokenFile { dir, path }
}

#[test]
fn binds_any_loopback_address_without_a_token() {
    for address in [
        "127.0.0.1:9000",
        "[::1]:0",
        "127.0.0.2:1",
        "[::ffff:127.0.0.1]:9",
    ] {
        let admin = config(&format!("address = \"{address}\"\n")).unwrap().admin;
        assert_eq!(
            (admin.address.to_string(), admin.token),
            (address.into(), None)
        );
    }
}

#[test]
fn requires_a_token_off_loopback() {
    let e = error("address = \"0.0.0.0:9901\"\n");
    assert_eq!(
        e.message,
        "admin address `0.0.0.0:9901` is not loopback: it needs a token"
    );
    assert_eq!(
        (e.key.as_deref(), e.line, e.column),
        (Some("admin.address"), Some(4), Some(11))
    );
    assert!(e.help.unwrap().contains("`token_file`"));
    let admin = config(&format!("address = \"[::]:9901\"\ntoken = \"{TOKEN}\"\n"))
        .unwrap()
        .admin;
    assert_eq!(admin.token.as_deref(), Some(TOKEN));
    assert!(
        !format!("{admin:?}").contains(TOKEN),
        "Debug shows the token"
    );
}

#[test]
fn rejects_short_or_unsendable_tokens_without_showing_them() {
    let e = error("token = \"s3cret\"\n");
    assert_eq!(e.message, "the admin token is too short (6 characters)");
    assert_eq!(e.key.as_deref(), Some("admin.token"));
    assert!(!e.to_string().contains("s3cret"), "{e}");
    let e = error("token = \"0123456789 abcdef\"\n");
    assert_eq!(
        e.message,
        "the admin token has a space, a control or a non-ASCII character"
    );
}

#[test]
fn rejects_a_bad_admin_address() {
    let e = error("address = \"localhost:9901\"\n");
    assert_eq!(
        (e.message.as_str(), e.key.as_deref()),
        (
            "invalid admin address `localhost:9901`",
            Some("admin.address")
        )
    );
}

#[test]
fn rejects_a_listener_address_for_the_admin_listener() {
    let e = error("address = \"127.0.0.1:8080\"\n");
    assert_eq!(
        e.message,
        "admin address `127.0.0.1:8080` is a listener's address"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("listeners[0] binds it already; use another port")
    );
    // The default admin address: the error points at the listener.
    let text = "[[listeners]]\naddress = \"127.0.0.1:9901\"\n";
    let e = parse(Path::new("gw.toml"), text).unwrap_err().0.remove(0);
    assert_eq!(
        (e.message.as_str(), e.key.as_deref(), e.line),
        (
            "listener address `127.0.0.1:9901` is the admin listener's address",
            Some("listeners[0].address"),
            Some(2)
        )
    );
    // Port 0 picks a free port for each.
    let text = "[[listeners]]\naddress = \"127.0.0.1:0\"\n[admin]\naddress = \"127.0.0.1:0\"\n";
    assert!(parse(Path::new("gw.toml"), text).is_ok());
}

#[test]
fn reads_the_token_file_at_load() {
    let file = token_file("ok", &format!("{TOKEN}\n\n"));
    let config = config(&format!(
        "token_file = {:?}\n",
        file.path.display().to_string()
    ))
    .unwrap();
    assert_eq!(config.admin.token.as_deref(), Some(TOKEN));
    assert_eq!(config.watched_files, std::slice::from_ref(&file.path));
}

#[test]
fn rejects_a_short_token_file_at_its_key() {
    let file = token_file("short", "abc\n");
    let e = error(&format!(
        "token_file = {:?}\n",
        file.path.display().to_string()
    ));
    assert!(
        e.message
            .ends_with("token.txt` is too short (3 characters)"),
        "{e}"
    );
    assert_eq!(
        (e.key.as_deref(), e.line),
        (Some("admin.token_file"), Some(4))
    );
}

#[test]
fn rejects_an_unreadable_token_file_at_its_line() {
    let e = error("\n\ntoken_file = \"missing/token.txt\"\n");
    assert!(
        e.message.starts_with("cannot read the admin token file `"),
        "{e}"
    );
    assert_eq!(
        (e.key.as_deref(), e.line, e.column),
        (Some("admin.token_file"), Some(6), Some(14))
    );
}

#[test]
fn rejects_both_token_and_token_file() {
    let file = token_file("both", TOKEN);
    let text = format!(
        "token = \"{TOKEN}\"\ntoken_file = {:?}\n",
        file.path.display().to_string()
    );
    let e = error(&text);
    assert_eq!(e.message, "`token` and `token_file` are both set");
    assert_eq!(
        (e.key.as_deref(), e.line),
        (Some("admin.token_file"), Some(5))
    );
}

#[test]
fn reports_every_admin_problem_at_once() {
    let errors = config("address = \"127.0.0.1:8080\"\ntoken = \"short\"\n").unwrap_err();
    let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "admin address `127.0.0.1:8080` is a listener's address",
            "the admin token is too short (5 characters)"
        ]
    );
}
