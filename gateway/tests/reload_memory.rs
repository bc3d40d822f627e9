//! Memory does not grow across many reloads: old snapshots, their plugins and instance pools
//! are freed once no request uses them. Runs the real binary, so RSS is the gateway's alone.

mod support;

use support::{Spawned, send, signal, spawn};

use std::path::Path;
use std::process::Child;

fn config(variant: u32) -> String {
    let plugin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/headers.wasm");
    format!(
        r#"
[[listeners]]
address = "127.0.0.1:0"

[admin]
address = "127.0.0.1:0"

[reload]
watch = false

[plugins.stamp]
path = "{}"
config = {{ response = {{ set = {{ "x-variant" = "{variant}" }} }} }}

[[routes]]
path = "/r"
plugins = ["stamp"]
integration = {{ type = "mock", status = 200, body = "ok" }}
"#,
        plugin.display()
    )
}

fn rss_kib(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn memory_stays_bounded_across_hundreds_of_reloads() {
    let dir = std::env::temp_dir().join(format!("wasmgate-reload-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config(0)).unwrap();
    let Spawned {
        mut child,
        traffic,
        admin,
        ..
    } = spawn(&path);

    let reload = |variant: u32| {
        std::fs::write(&path, config(variant)).unwrap();
        let answer = send(
            &admin,
            "POST /reload HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let served = send(
            &traffic,
            "GET /r HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        );
        assert!(
            served.contains(&format!("x-variant: {variant}")),
            "{served}"
        );
    };
    for variant in 1..=30 {
        reload(variant);
    }
    let warmed_up = rss_kib(&child);
    for variant in 31..=330 {
        reload(variant);
    }
    let after = rss_kib(&child);
    signal(&child, "-TERM");
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let growth_mib = after.saturating_sub(warmed_up) / 1024;
    eprintln!("RSS after warm-up {warmed_up} KiB, after 300 more reloads {after} KiB");
    assert!(
        growth_mib < 16,
        "RSS grew {growth_mib} MiB over 300 reloads"
    );
}
