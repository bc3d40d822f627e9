//! The `wasmgate` binary: `check` on good and broken configs, `run` serving until SIGTERM,
//! SIGHUP reloading.

mod support;

use support::{Spawned, get, signal, spawn, wait_for_log};

use std::path::{Path, PathBuf};
use std::process::Command;

fn wasmgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wasmgate"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A config file in a scratch directory of its own, removed with it when dropped.
struct ScratchConfig {
    dir: PathBuf,
    file: PathBuf,
}

impl std::ops::Deref for ScratchConfig {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.file
    }
}

impl AsRef<Path> for ScratchConfig {
    fn as_ref(&self) -> &Path {
        &self.file
    }
}

impl AsRef<std::ffi::OsStr> for ScratchConfig {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.file.as_os_str()
    }
}

impl Drop for ScratchConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch_config(name: &str, text: &str) -> ScratchConfig {
    let dir = std::env::temp_dir().join(format!("wasmgate-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gateway.toml");
    std::fs::write(&file, text).unwrap();
    ScratchConfig { dir, file }
}

/// `wasmgate check` of the example `config` succeeds; returns what it printed.
fn check_example(config: &str, summary: &str) -> String {
    let output = wasmgate()
        .current_dir(repo_root())
        .args(["check", config])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("{config}: ok ({summary})")),
        "{stdout}"
    );
    stdout
}

#[test]
fn check_accepts_the_quickstart_config() {
    let stdout = check_example("examples/quickstart/gateway.toml", "5 routes, 5 plugins");
    assert!(stdout.contains("plugin api-key: sha256 "), "{stdout}");
}

#[test]
fn check_accepts_the_traffic_example() {
    check_example("examples/traffic/gateway.toml", "2 routes, 0 plugins");
}

#[test]
fn check_accepts_the_stages_example_with_a_plugin_instance_per_stage() {
    let stdout = check_example("examples/stages/gateway.toml", "2 routes, 3 plugins");
    for instance in ["stamp@dev", "stamp@prod", "stamp@prod/canary"] {
        assert!(
            stdout.contains(&format!("plugin {instance}: sha256 ")),
            "{stdout}"
        );
    }
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

fn ping_config(body: &str) -> String {
    format!(
        "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n[admin]\naddress = \"127.0.0.1:0\"\n\n\
         [reload]\nwatch = false\n\n\
         [[routes]]\npath = \"/ping\"\nintegration = {{ type = \"mock\", status = 200, body = \"{body}\" }}\n"
    )
}

#[test]
fn sighup_reloads_the_config() {
    let path = scratch_config("sighup", &ping_config("before"));
    let Spawned {
        mut child,
        traffic,
        admin,
        log,
        ..
    } = spawn(&path);
    assert!(get(&traffic, "/ping").ends_with("before"));

    std::fs::write(&path, ping_config("after")).unwrap();
    signal(&child, "-HUP");
    // Readiness: the gateway logs the reload once the new snapshot is live.
    assert!(
        wait_for_log(&log, "config reloaded", std::time::Duration::from_secs(10)),
        "no reload after SIGHUP"
    );
    assert!(get(&admin, "/config").contains("\"generation\":2"));
    assert!(get(&traffic, "/ping").ends_with("after"));
    let metrics = get(&admin, "/metrics");
    assert!(
        metrics.contains("wasmgate_config_reloads_total{result=\"success\",trigger=\"signal\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasmgate_config_generation 2"),
        "{metrics}"
    );
    signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn run_serves_until_sigterm_then_exits_cleanly() {
    let path = scratch_config("run", &ping_config("pong"));
    let Spawned {
        mut child,
        traffic: address,
        ..
    } = spawn(&path);

    let response = get(&address, "/ping");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("pong"), "{response}");

    signal(&child, "-TERM");
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
}

#[test]
fn hash_key_prints_the_sha256_of_a_key_or_of_a_new_one() {
    let output = wasmgate()
        .args(["hash-key", "demo-key-123"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "a52782e3a2d4dd2f95f640b9abfb3b2a6b8e722c65f55be830f6e5f619f7f873"
    );
    let output = wasmgate()
        .args(["hash-key", "--generate"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("key:  "))
        .unwrap();
    let hash = stdout
        .lines()
        .find_map(|l| l.strip_prefix("hash: "))
        .unwrap();
    assert!(key.starts_with("wg_"), "{stdout}");
    assert_eq!(hash, wasmgate::api_key::hash_key(key));
}

/// The quickstart's documented requests, against the real binary on its real config (moved to
/// a free port).
#[test]
fn the_quickstart_answers_as_its_comments_say() {
    let source =
        std::fs::read_to_string(repo_root().join("examples/quickstart/gateway.toml")).unwrap();
    let token = source
        .lines()
        .find_map(|line| line.strip_prefix("#   with TOKEN="))
        .expect("the documented token")
        .to_owned();
    let target = repo_root().join("target").display().to_string();
    let config = source
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("../../target", &target)
        + "\n[admin]\naddress = \"127.0.0.1:0\"\n";
    let config = scratch_config("quickstart", &config);
    let Spawned {
        mut child, traffic, ..
    } = spawn(&config);
    let request = |path: &str, header: &str| {
        support::send(
            &traffic,
            &format!("GET {path} HTTP/1.1\r\nhost: q\r\n{header}connection: close\r\n\r\n"),
        )
    };

    assert!(request("/hello", "").starts_with("HTTP/1.1 401"));
    assert!(request("/hello", "x-api-key: demo\r\n").starts_with("HTTP/1.1 200"));
    let refused = request("/orders", "");
    assert!(refused.starts_with("HTTP/1.1 403") && refused.contains("INVALID_API_KEY"));
    // A burst of 10, then 5 per second: back-to-back requests soon meet a 429.
    let statuses: Vec<String> = (0..40)
        .map(|_| request("/orders", "x-api-key: demo-key-123\r\n")[9..12].to_owned())
        .collect();
    assert_eq!(statuses[..10], ["200"; 10], "{statuses:?}");
    assert!(statuses[10..].contains(&"429".to_owned()), "{statuses:?}");

    assert!(request("/me", "").starts_with("HTTP/1.1 401"));
    let me = request("/me", &format!("authorization: Bearer {token}\r\n"));
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(me.contains("x-principal: alice"), "{me}");

    signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());
}

/// The TLS example's documented requests, against the real binary with certificates made by
/// `wasmgate dev-cert` as its header says (listeners moved to free ports).
#[test]
fn the_tls_example_answers_as_its_comments_say() {
    let scratch = scratch_config("tls", "");
    let certs = scratch.dir.join("certs");
    let made = wasmgate()
        .args(["dev-cert", "--client", "alice", "--out"])
        .arg(&certs)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let source = std::fs::read_to_string(repo_root().join("examples/tls/gateway.toml")).unwrap();
    let target = repo_root().join("target").display().to_string();
    let config = source
        .replace("127.0.0.1:8443", "127.0.0.1:0")
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9902", "127.0.0.1:0")
        .replace("../../target", &target);
    std::fs::write(&*scratch, config).unwrap();
    let Spawned {
        mut child,
        listeners,
        ..
    } = spawn(&scratch);
    let [(https_scheme, https), (redirect_scheme, redirect)] = listeners.as_slice() else {
        panic!("two listeners: {listeners:?}");
    };
    assert_eq!(
        (https_scheme.as_str(), redirect_scheme.as_str()),
        ("https", "http")
    );

    let anonymous = tls_get(https, &certs, None, "/whoami");
    assert!(anonymous.starts_with("HTTP/1.1 200"), "{anonymous}");
    assert!(anonymous.contains("strict-transport-security: max-age=31536000"));
    assert!(anonymous.contains("x-tls-protocol: TLSv1.3"), "{anonymous}");
    assert!(!anonymous.contains("x-client-subject"), "{anonymous}");

    let alice = tls_get(https, &certs, Some("client"), "/whoami");
    assert!(alice.starts_with("HTTP/1.1 200"), "{alice}");
    assert!(alice.contains("x-client-subject: CN=alice"), "{alice}");
    assert!(alice.contains("x-client-fingerprint: "), "{alice}");

    let redirected = support::send(
        redirect,
        "GET /whoami HTTP/1.1\r\nhost: localhost:8080\r\nconnection: close\r\n\r\n",
    );
    assert!(redirected.starts_with("HTTP/1.1 308"), "{redirected}");
    assert!(
        redirected.contains("location: https://localhost:8443/whoami"),
        "{redirected}"
    );
    signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());
}

/// `GET path` over TLS 1.2+ to `address` as `localhost`, trusting `certs/ca.pem`, presenting
/// `certs/<client>.pem` when given; the raw HTTP/1.1 response.
fn tls_get(address: &str, certs: &Path, client: Option<&str>, path: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};
    use std::sync::Arc;

    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(certs.join("ca.pem")).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(stem) => {
            let chain = CertificateDer::pem_file_iter(certs.join(format!("{stem}.pem")))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(certs.join(format!("{stem}-key.pem"))).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    let name = "localhost".try_into().unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = std::net::TcpStream::connect(address).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    // A peer that closes without close_notify ends the stream with UnexpectedEof: the
    // response is complete either way (`connection: close`).
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(error) => panic!("reading the TLS response: {error}"),
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// `wasmgate check … | head -0`: the reader is gone before the report is written, and the
/// exit status is still check's own.
#[test]
fn check_into_a_closed_pipe_does_not_panic() {
    let mut child = wasmgate()
        .current_dir(repo_root())
        .args(["check", "examples/quickstart/gateway.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{stderr}");
}
