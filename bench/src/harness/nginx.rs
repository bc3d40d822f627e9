//! The reference proxy: Debian's nginx as a `proxy_pass` to the same backend with upstream
//! keep-alive, run as the current user from a generated config in the scratch directory, in the
//! foreground (`daemon off`), on loopback only, with as many worker processes as the gateway
//! has worker threads. Scenario 13 runs the same nginx with ModSecurity and the OWASP CRS
//! ([`super::modsecurity`]) in front of the `proxy_pass`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;

use super::children::{self, ChildProcess};
use super::modsecurity::{self, ModSecurity};
use super::net;

/// A running nginx (master and workers).
pub struct Nginx {
    process: ChildProcess,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Nginx {
    /// Where nginx is installed, if it is.
    pub fn binary() -> Option<PathBuf> {
        ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    }

    /// `nginx version: nginx/1.22.1`, as installed.
    pub fn version(binary: &Path) -> Option<String> {
        let output = std::process::Command::new(binary).arg("-v").output().ok()?;
        let text = String::from_utf8_lossy(&output.stderr);
        text.lines().next().map(|l| l.trim().to_owned())
    }

    /// Writes the config to `dir/nginx/` (with `waf`: `dir/nginx-modsecurity/`, with the
    /// ModSecurity files) and starts nginx with `workers` worker processes proxying to
    /// `backend`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        backend: SocketAddr,
        workers: usize,
        waf: Option<&ModSecurity>,
    ) -> anyhow::Result<Self> {
        let root = dir.join(if waf.is_some() {
            "nginx-modsecurity"
        } else {
            "nginx"
        });
        std::fs::create_dir_all(&root)?;
        let rules = waf.map(|waf| waf.write_config(&root)).transpose()?;
        let port = net::free_port()?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let config_path = root.join("nginx.conf");
        let text = config(&root, backend, address, workers, rules.as_deref());
        std::fs::write(&config_path, text)?;
        let mut command = children::command(binary);
        command
            .arg("-p")
            .arg(&root)
            .arg("-e")
            .arg(root.join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("stderr.log"))?);
        let mut process = ChildProcess::spawn("nginx", command)?;
        net::wait_for_port(&mut process, address, Duration::from_secs(10)).with_context(|| {
            format!(
                "nginx did not start; see {}",
                root.join("error.log").display()
            )
        })?;
        Ok(Nginx { process, address })
    }

    /// The master's and the workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        super::procfs::with_children(self.process.pid())
    }
}

/// The nginx config: `proxy_pass` over HTTP/1.1 to an upstream with idle keep-alive
/// connections, no access log, temp files in `root`; with `modsecurity_rules`, ModSecurity on
/// every request, loading that file.
pub fn config(
    root: &Path,
    backend: SocketAddr,
    listen: SocketAddr,
    workers: usize,
    modsecurity_rules: Option<&Path>,
) -> String {
    let root = root.display();
    // As root, nginx would switch its workers to `nobody`; keep them as the current user.
    let user = if rustix::process::getuid().is_root() {
        "user root;\n"
    } else {
        ""
    };
    let (module, waf) = match modsecurity_rules {
        Some(rules) => (
            format!("load_module {};\n", modsecurity::MODULE),
            format!(
                "    modsecurity on;\n    modsecurity_rules_file {};\n",
                rules.display()
            ),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"{user}{module}worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 1000000;
{waf}    upstream backend {{
        server {backend};
        keepalive 128;
        keepalive_requests 1000000;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(root: &Path, rules: Option<&Path>) -> String {
        config(
            root,
            "127.0.0.1:9001".parse().unwrap(),
            "127.0.0.1:9002".parse().unwrap(),
            2,
            rules,
        )
    }

    #[test]
    fn only_scenario_13_loads_modsecurity_and_both_proxy_alike() {
        let root = Path::new("/scratch");
        let plain = sample(root, None);
        let waf = sample(root, Some(Path::new("/scratch/rules.conf")));
        assert!(!plain.contains("modsecurity"), "{plain}");
        for line in [
            "load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;",
            "    modsecurity on;",
            "    modsecurity_rules_file /scratch/rules.conf;",
        ] {
            assert!(waf.lines().any(|l| l == line), "no `{line}` in:\n{waf}");
        }
        let without_waf: Vec<&str> = waf.lines().filter(|l| !l.contains("modsecurity")).collect();
        assert_eq!(without_waf, plain.lines().collect::<Vec<_>>());
    }

    #[test]
    fn an_installed_nginx_with_modsecurity_accepts_the_config() {
        // Only where nginx, the module and the CRS are installed (bench/run installs them);
        // `-t` loads the module and every rule, then exits.
        let (Some(binary), Some(waf)) = (Nginx::binary(), ModSecurity::find()) else {
            return;
        };
        let root =
            std::env::temp_dir().join(format!("wasmgate-bench-modsecurity-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let rules = waf.write_config(&root).unwrap();
        let path = root.join("nginx.conf");
        std::fs::write(&path, sample(&root, Some(&rules))).unwrap();
        let output = std::process::Command::new(binary)
            .arg("-t")
            .arg("-p")
            .arg(&root)
            .arg("-e")
            .arg(root.join("error.log"))
            .arg("-c")
            .arg(&path)
            .output()
            .unwrap();
        let log = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&root);
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{said}");
        // The connector logs the rules it loaded (`inline/local/remote: 0/922/0`): the CRS
        // has hundreds.
        let local: u32 = log
            .split("inline/local/remote: ")
            .nth(1)
            .and_then(|counts| counts.split('/').nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no rule count in:\n{log}"));
        assert!(local > 500, "{local} rules loaded:\n{log}");
    }
}
