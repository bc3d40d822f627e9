//! The reference proxy: Debian's nginx as a `proxy_pass` to the same backend with upstream
//! keep-alive, run as the current user from a generated config in the scratch directory, in the
//! foreground (`daemon off`), on loopback only, with as many worker processes as the gateway
//! has worker threads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;

use super::children::{self, ChildProcess};
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

    /// Writes the config to `dir/nginx/` and starts nginx with `workers` worker processes
    /// proxying to `backend`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        backend: SocketAddr,
        workers: usize,
    ) -> anyhow::Result<Self> {
        let root = dir.join("nginx");
        std::fs::create_dir_all(&root)?;
        let port = net::free_port()?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let config_path = root.join("nginx.conf");
        std::fs::write(&config_path, config(&root, backend, address, workers))?;
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
/// connections, no access log, temp files in `root`.
pub fn config(root: &Path, backend: SocketAddr, listen: SocketAddr, workers: usize) -> String {
    let root = root.display();
    // As root, nginx would switch its workers to `nobody`; keep them as the current user.
    let user = if rustix::process::getuid().is_root() {
        "user root;\n"
    } else {
        ""
    };
    format!(
        r#"{user}worker_processes {workers};
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
    upstream backend {{
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
