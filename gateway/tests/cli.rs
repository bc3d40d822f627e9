//! The `wasmgate` binary: `check` on good and broken configs, `run` serving until SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn wasmgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wasmgate"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn scratch_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmgate-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_accepts_the_quickstart_config() {
    let output = wasmgate()
        .current_dir(repo_root())
        .args(["check", "examples/quickstart/gateway.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("examples/quickstart/gateway.toml: ok (3 routes, 2 plugins)"),
        "{stdout}"
    );
    assert!(stdout.contains("plugin api-key: sha256 "), "{stdout}");
}

#[test]
fn check_refuses_a_broken_config_with_the_reason() {
    let path = scratch_config(
        "broken",
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n[[routes]]\npath = \"/x\"\nintegration = { type = \"http\", upstream = \"nowhere\" }\n",
    );
    let output = wasmgate().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: unknown upstream `nowhere`"),
        "{stderr}"
    );
    assert!(stderr.contains("gateway.toml:6:"), "{stderr}");
    assert!(stderr.contains("1 problem(s) found"), "{stderr}");
}

#[test]
fn run_serves_until_sigterm_then_exits_cleanly() {
    let path = scratch_config(
        "run",
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n[[routes]]\npath = \"/ping\"\nintegration = { type = \"mock\", status = 200, body = \"pong\" }\n",
    );
    let mut child = wasmgate()
        .args(["run", "-c"])
        .arg(&path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Readiness: the line announcing the bound address.
    let address = loop {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "wasmgate exited before serving"
        );
        if let Some((_, rest)) = line.split_once("serving on http://") {
            break rest.trim().to_owned();
        }
    };

    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("pong"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
}
