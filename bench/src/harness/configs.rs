//! The gateway configs of the scenarios, generated around the shared backend.
//!
//! Every config has the same base: a listener and the admin on loopback ports the OS picks, the
//! compiled-plugin cache under `target/`, a 10 ms reload debounce, the `backend` upstream, and
//! the routes `GET /small` and `POST /json` proxied to it. Scenario 3's gateway, which scenarios
//! 7 to 9 load too, adds a second listener serving HTTPS ([`TLS_LISTENER`]). The plugin chains
//! are not here: scenario 5's is read from `bench/configs/realistic-chain.toml`
//! ([`REALISTIC_CHAIN_FILE`]), scenario 11's from `bench/configs/get-chain.toml`
//! ([`GET_CHAIN_FILE`]), scenario 12's from `bench/configs/waf-only.toml` ([`WAF_ONLY_FILE`]).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::tls::ServerCertificate;

/// Scenario 5's chain, relative to the bench crate.
pub const REALISTIC_CHAIN_FILE: &str = "configs/realistic-chain.toml";

/// Scenario 11's chain, relative to the bench crate.
pub const GET_CHAIN_FILE: &str = "configs/get-chain.toml";

/// Scenario 12's chain (the WAF alone), relative to the bench crate.
pub const WAF_ONLY_FILE: &str = "configs/waf-only.toml";

/// The name of scenario 3's HTTPS listener (the plain one is `bench`).
pub const TLS_LISTENER: &str = "bench-tls";

/// What every generated config points at.
#[derive(Debug, Clone)]
pub struct ConfigContext {
    /// The backend's address.
    pub backend: SocketAddr,
    /// Where the compiled plugins are (`target/plugins`).
    pub plugins_dir: PathBuf,
    /// The gateway's compiled-plugin disk cache.
    pub cache_dir: PathBuf,
}

/// A plugin of a chain read from a file, as the report lists it.
#[derive(Debug, Clone)]
pub struct ChainPlugin {
    /// Its name in the config.
    pub name: String,
    /// The `.wasm` file it runs.
    pub wasm_file: String,
    /// Whether it runs another plugin's component (its name differs from the file's).
    pub stand_in: bool,
}

impl ConfigContext {
    /// Scenario 3: the gateway with no plugins. Its second listener, [`TLS_LISTENER`], serves
    /// the same routes over HTTPS with `certificate` (TLS 1.2 and 1.3, the gateway's defaults)
    /// for scenarios 7 and 9; it is idle while scenario 3 runs.
    pub fn no_plugins(&self, certificate: &ServerCertificate) -> String {
        let listener = format!(
            "[[listeners]]\nname = \"{TLS_LISTENER}\"\naddress = \"127.0.0.1:0\"\n\
             [listeners.tls]\ncertificates = [{{ cert = {:?}, key = {:?} }}]\n",
            certificate.cert.display().to_string(),
            certificate.key.display().to_string(),
        );
        self.base(&listener)
    }

    /// Scenario 4: the no-op plugin (every stage declared) in the global chain.
    pub fn noop_chain(&self) -> String {
        let extra = format!(
            "[chain]\nplugins = [\"noop\"]\n\n[plugins.noop]\npath = {:?}\n",
            self.plugin("noop")
        );
        self.base(&extra)
    }

    /// Scenario 5: the realistic chain from [`REALISTIC_CHAIN_FILE`] (`fragment` is its text).
    pub fn realistic_chain(&self, fragment: &str) -> String {
        self.with_chain(fragment)
    }

    /// Scenario 11: the GET chain from [`GET_CHAIN_FILE`] (`fragment` is its text).
    pub fn get_chain(&self, fragment: &str) -> String {
        self.with_chain(fragment)
    }

    /// Scenario 12: the WAF alone, from [`WAF_ONLY_FILE`] (`fragment` is its text).
    pub fn waf_only(&self, fragment: &str) -> String {
        self.with_chain(fragment)
    }

    /// Scenario 14: scenario 3's routes to a pool of three targets — the one backend three
    /// times, each target with its own connections — with least-request balancing, retries,
    /// active health checks and outlier detection, so the pool's per-request work is all done.
    pub fn pool(&self) -> String {
        let target = format!("{{ url = \"http://{}\" }}", self.backend);
        let upstream = format!(
            "[upstreams.backend]\ntargets = [{target}, {target}, {target}]\n\
             balance = \"least-request\"\n\
             retries = {{ attempts = 2, on = [\"connect-failure\", \"reset\", \"503\"] }}\n\
             health_check = {{ path = \"/small\", interval_ms = 1000 }}\n\
             outlier = {{ consecutive_failures = 5 }}\n"
        );
        self.base_with_upstream(&upstream, "", &[])
    }

    /// The base config followed by a chain file's text, `${PLUGINS_DIR}` replaced.
    fn with_chain(&self, fragment: &str) -> String {
        let plugins_dir = self.plugins_dir.display().to_string();
        self.base(&fragment.replace("${PLUGINS_DIR}", &plugins_dir))
    }

    /// Scenario 6: scenario 3 plus a mock route whose body names `variant`, so each rewrite
    /// changes the config and the gateway reloads it.
    pub fn reloading(&self, variant: u64) -> String {
        let marker = format!(
            "[[routes]]\nid = \"reload-marker\"\npath = \"/reload-marker\"\n\
             integration = {{ type = \"mock\", status = 200, body = \"variant {variant}\" }}\n"
        );
        self.base(&marker)
    }

    /// The memory scenario: every built-in plugin (waf, validator, mapper, cors, headers) and
    /// require-api-key, configured and chained on `POST /json` (not on `GET /small`): the
    /// realistic chain's plugins from `fragment`, then cors and headers.
    pub fn all_builtins(&self, fragment: &str) -> anyhow::Result<String> {
        let plugins_dir = self.plugins_dir.display().to_string();
        let mut table: toml::Table = fragment
            .replace("${PLUGINS_DIR}", &plugins_dir)
            .parse()
            .context("parsing the realistic chain")?;
        table.remove("chain");
        let mut names: Vec<String> = Self::chain_plugins(fragment)?
            .into_iter()
            .map(|p| p.name)
            .collect();
        names.extend(["cors".to_owned(), "headers".to_owned()]);
        let mut extra = toml::to_string(&table).context("writing the plugin tables")?;
        let _ = write!(
            extra,
            "\n[plugins.cors]\npath = {:?}\n[plugins.cors.config]\n\
             allow_origins = [\"https://app.example.com\"]\nallow_methods = [\"GET\", \"POST\"]\n\
             \n[plugins.headers]\npath = {:?}\n[plugins.headers.config]\n\
             response = {{ set = {{ \"x-powered-by\" = \"wasmgate\" }} }}\n",
            self.plugin("cors"),
            self.plugin("headers"),
        );
        Ok(self.base_with_json_plugins(&extra, &names))
    }

    /// The plugins of a chain file (the realistic chain, the GET chain, the WAF alone), in order, from the
    /// fragment's `[chain]`.
    pub fn chain_plugins(fragment: &str) -> anyhow::Result<Vec<ChainPlugin>> {
        let table: toml::Table = fragment.parse().context("parsing the chain file")?;
        let names = table
            .get("chain")
            .and_then(|chain| chain.get("plugins"))
            .and_then(toml::Value::as_array)
            .context("the chain file has no [chain] plugins list")?;
        names
            .iter()
            .map(|name| {
                let name = name.as_str().context("a chain entry is not a string")?;
                let path = table
                    .get("plugins")
                    .and_then(|plugins| plugins.get(name))
                    .and_then(|plugin| plugin.get("path"))
                    .and_then(toml::Value::as_str)
                    .with_context(|| format!("no path for plugin `{name}`"))?;
                let wasm_file = Path::new(path)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let stand_in = wasm_file != format!("{}.wasm", name.replace('-', "_"));
                Ok(ChainPlugin {
                    name: name.to_owned(),
                    wasm_file,
                    stand_in,
                })
            })
            .collect()
    }

    fn plugin(&self, crate_name: &str) -> String {
        self.plugins_dir
            .join(format!("{crate_name}.wasm"))
            .display()
            .to_string()
    }

    fn base(&self, extra: &str) -> String {
        self.base_with_json_plugins(extra, &[])
    }

    fn base_with_json_plugins(&self, extra: &str, json_plugins: &[String]) -> String {
        let upstream = format!("[upstreams.backend]\nurl = \"http://{}\"\n", self.backend);
        self.base_with_upstream(&upstream, extra, json_plugins)
    }

    /// The base config with `upstream` (the `backend` upstream's table) and `extra`.
    fn base_with_upstream(&self, upstream: &str, extra: &str, json_plugins: &[String]) -> String {
        format!(
            r#"[[listeners]]
name = "bench"
address = "127.0.0.1:0"

[admin]
address = "127.0.0.1:0"

[engine]
cache_dir = {cache:?}

[reload]
debounce_ms = 10

{upstream}
[[routes]]
id = "small"
methods = ["GET"]
path = "/small"
integration = {{ type = "http", upstream = "backend" }}

[[routes]]
id = "json"
methods = ["POST"]
path = "/json"
plugins = {json_plugins:?}
integration = {{ type = "http", upstream = "backend" }}

{extra}"#,
            cache = self.cache_dir.display().to_string(),
        )
    }
}

/// Reads scenario 5's chain from the bench crate.
pub fn read_realistic_chain() -> anyhow::Result<String> {
    read_chain_file(REALISTIC_CHAIN_FILE)
}

/// Reads scenario 11's chain from the bench crate.
pub fn read_get_chain() -> anyhow::Result<String> {
    read_chain_file(GET_CHAIN_FILE)
}

/// Reads scenario 12's chain from the bench crate.
pub fn read_waf_only() -> anyhow::Result<String> {
    read_chain_file(WAF_ONLY_FILE)
}

fn read_chain_file(file: &str) -> anyhow::Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_3_serves_plain_http_and_https_with_one_config() {
        let dir = std::env::temp_dir().join(format!("wasmgate-bench-tls-{}", std::process::id()));
        let certificate = super::super::tls::write_certificate(&dir).unwrap();
        let context = ConfigContext {
            backend: "127.0.0.1:9".parse().unwrap(),
            plugins_dir: dir.join("plugins"),
            cache_dir: dir.join("cache"),
        };
        let text = context.no_plugins(&certificate);
        let config = wasmgate::config::parse(&dir.join("no-plugins.toml"), &text);
        let _ = std::fs::remove_dir_all(&dir);
        let config = config.unwrap_or_else(|e| panic!("{e}\n{text}"));
        let listeners: Vec<_> = config
            .listeners
            .iter()
            .map(|l| (l.name.as_str(), l.tls.is_some()))
            .collect();
        assert_eq!(listeners, [("bench", false), (TLS_LISTENER, true)]);
        assert_eq!(config.routes.len(), 2);
    }

    #[test]
    fn labels_plugins_running_another_component_as_stand_ins() {
        let fragment = read_realistic_chain().unwrap();
        let plugins = ConfigContext::chain_plugins(&fragment).unwrap();
        let names: Vec<_> = plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "waf",
                "jwt-authorizer",
                "rate-limiter",
                "validator",
                "mapper"
            ]
        );
        assert!(!plugins[0].stand_in);
        assert_eq!(
            plugins[1].stand_in,
            plugins[1].wasm_file != "jwt_authorizer.wasm"
        );
    }

    #[test]
    fn the_get_chain_is_a_valid_config_of_five_real_plugins() {
        let fragment = read_get_chain().unwrap();
        let plugins = ConfigContext::chain_plugins(&fragment).unwrap();
        let names: Vec<_> = plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["waf", "jwt-authorizer", "rate-limiter", "cors", "headers"]
        );
        assert!(plugins.iter().all(|p| !p.stand_in), "{plugins:?}");
        let context = ConfigContext {
            backend: "127.0.0.1:9".parse().unwrap(),
            plugins_dir: "/plugins".into(),
            cache_dir: "/cache".into(),
        };
        let text = context.get_chain(&fragment);
        let config = wasmgate::config::parse(Path::new("get-chain.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.routes.len(), 2);
        assert!(text.contains("path = \"/plugins/cors.wasm\""), "{text}");
    }

    #[test]
    fn the_waf_only_chain_is_the_real_waf_reading_bodies() {
        let fragment = read_waf_only().unwrap();
        let plugins = ConfigContext::chain_plugins(&fragment).unwrap();
        assert_eq!(plugins.len(), 1);
        assert_eq!(
            (plugins[0].name.as_str(), plugins[0].stand_in),
            ("waf", false)
        );
        let context = ConfigContext {
            backend: "127.0.0.1:9".parse().unwrap(),
            plugins_dir: "/plugins".into(),
            cache_dir: "/cache".into(),
        };
        let text = context.waf_only(&fragment);
        let config = wasmgate::config::parse(Path::new("waf-only.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.routes.len(), 2);
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(
            table["plugins"]["waf"]["config"]["inspect"]["body"].as_bool(),
            Some(true),
            "CRS reads JSON bodies, so the WAF must too"
        );
    }
}
