//! Scenario 13's WAF: ModSecurity 3 in Debian's nginx connector
//! (`libnginx-mod-http-modsecurity`) with Debian's OWASP Core Rule Set (`modsecurity-crs`),
//! configured the way an operator turns the packages' files on, every file written to the
//! scratch directory (nothing under `/etc` is changed):
//!
//! - `modsecurity.conf`: ModSecurity's recommended config, as Debian ships it
//!   ([`BASE_CONFIGS`]), with the engine blocking (`SecRuleEngine On`), request bodies read
//!   (JSON ones by the JSON processor, as the recommended config already says), response bodies
//!   not read (the gateway's WAF does not inspect responses either), and its temp, data and
//!   audit-log files in the scratch directory;
//! - `crs-setup.conf`: Debian's CRS setup (anomaly scoring, inbound threshold 5) with the
//!   paranoia level set explicitly to 1;
//! - `exclusions-after-crs.conf`: the one rule exclusion the benchmark needs
//!   ([`EXCLUDED_RULES`]);
//! - `rules.conf`: the file nginx's `modsecurity_rules_file` loads — the three above and every
//!   CRS rule file, in CRS's order.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The nginx dynamic module (`load_module`).
pub const MODULE: &str = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so";

/// The CRS rule files.
pub const CRS_RULES: &str = "/usr/share/modsecurity-crs/rules";

/// Debian's CRS setup: the rules refuse to run without the version it sets.
pub const CRS_SETUP: &str = "/etc/modsecurity/crs/crs-setup.conf";

/// ModSecurity's recommended config, where Debian puts it: the first is installed with the
/// Apache module, the second with the nginx one (the same file; Debian 12 ships only the
/// second with `libnginx-mod-http-modsecurity`).
pub const BASE_CONFIGS: [&str; 2] = [
    "/etc/modsecurity/modsecurity.conf-recommended",
    "/usr/share/nginx/docs/modsecurity/modsecurity.conf",
];

/// The CRS paranoia level, as the gateway's WAF's default.
pub const PARANOIA: u8 = 1;

/// Rules removed, each with why, as an operator writes it in `RESPONSE-999-EXCLUSION-RULES-
/// AFTER-CRS.conf`.
pub const EXCLUDED_RULES: [(&str, &str); 1] = [(
    "920350",
    "Host header is a numeric IP address: wrk and the probe address the proxy as \
     127.0.0.1:<port>, as internal clients do. A warning (3 points, below the threshold of 5): \
     it never blocked, but it logged a warning and wrote an audit-log entry for every request",
)];

/// An installed ModSecurity with the CRS.
#[derive(Debug, Clone)]
pub struct ModSecurity {
    /// The recommended config it starts from (one of [`BASE_CONFIGS`]).
    pub base: PathBuf,
}

impl ModSecurity {
    /// The installation, when the module, the CRS and a recommended config are all there.
    pub fn find() -> Option<ModSecurity> {
        let installed = [MODULE, CRS_RULES, CRS_SETUP]
            .into_iter()
            .all(|path| Path::new(path).exists());
        let base = BASE_CONFIGS
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())?;
        installed.then_some(ModSecurity { base })
    }

    /// nginx's path when nginx, the ModSecurity module and the CRS are installed (for
    /// [`super::reference::Reference`]).
    pub fn nginx_binary() -> Option<PathBuf> {
        ModSecurity::find()?;
        super::nginx::Nginx::binary()
    }

    /// `nginx version: nginx/1.22.1, ModSecurity-nginx 1.0.3, libmodsecurity 3.0.9, OWASP CRS
    /// 3.3.4`: nginx's own line and the Debian packages' versions.
    pub fn version(nginx: &Path) -> Option<String> {
        let mut line = super::nginx::Nginx::version(nginx)?;
        for (name, package) in [
            ("ModSecurity-nginx", "libnginx-mod-http-modsecurity"),
            ("libmodsecurity", "libmodsecurity3"),
            ("OWASP CRS", "modsecurity-crs"),
        ] {
            let output = std::process::Command::new("dpkg-query")
                .args(["-W", "-f", "${Version}", package])
                .output()
                .ok()?;
            let version = String::from_utf8_lossy(&output.stdout);
            // `3.0.9-1+deb12u2`: the upstream version, then Debian's revision.
            let upstream = version.split('-').next().unwrap_or_default();
            let _ = write!(line, ", {name} {upstream}");
        }
        Some(line)
    }

    /// Writes the config files to `dir` and returns the one for nginx's
    /// `modsecurity_rules_file`.
    pub fn write_config(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        for sub in ["tmp", "data"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let read = |path: &Path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        };
        let engine = engine_config(&read(&self.base)?, &self.base, dir);
        let setup = crs_setup(&read(Path::new(CRS_SETUP))?);
        let files = [
            ("modsecurity.conf", engine),
            ("crs-setup.conf", setup),
            ("exclusions-after-crs.conf", exclusions()),
        ];
        for (name, text) in &files {
            std::fs::write(dir.join(name), text)?;
        }
        let rules = dir.join("rules.conf");
        std::fs::write(&rules, rules_file(dir))?;
        Ok(rules)
    }
}

/// The recommended config `base` (read from `base_path`) with the directives this benchmark
/// sets replaced in place (or added at the end when the base lacks one).
pub fn engine_config(base: &str, base_path: &Path, dir: &Path) -> String {
    let unicode_map = base_path.with_file_name("unicode.mapping");
    let settings = [
        // Blocking, as the gateway's WAF (the base only detects).
        ("SecRuleEngine", "On".to_owned()),
        ("SecRequestBodyAccess", "On".to_owned()),
        // The gateway's WAF does not read responses either.
        ("SecResponseBodyAccess", "Off".to_owned()),
        ("SecTmpDir", format!("{}/", dir.join("tmp").display())),
        ("SecDataDir", format!("{}/", dir.join("data").display())),
        ("SecAuditLog", dir.join("audit.log").display().to_string()),
        // Relative paths are read from nginx's prefix (the scratch directory), not the base's.
        (
            "SecUnicodeMapFile",
            format!("{} 20127", unicode_map.display()),
        ),
        // Loopback only: no status report to modsecurity.org.
        ("SecStatusEngine", "Off".to_owned()),
    ];
    let mut lines: Vec<String> = base.lines().map(str::to_owned).collect();
    for (directive, value) in &settings {
        let wanted = format!("{directive} {value}");
        let existing = lines.iter_mut().find(|line| {
            line.split_whitespace().next() == Some(directive) && !line.starts_with('#')
        });
        match existing {
            Some(line) => *line = wanted,
            None => lines.push(wanted),
        }
    }
    if !base.contains("ctl:requestBodyProcessor=JSON") {
        lines.push(
            "SecRule REQUEST_HEADERS:Content-Type \"^application/json\" \
             \"id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\""
                .to_owned(),
        );
    }
    let mut text = format!(
        "# ModSecurity's recommended config ({}), with the benchmark's settings: see\n\
         # bench/src/harness/modsecurity.rs.\n",
        base_path.display()
    );
    text += &lines.join("\n");
    text.push('\n');
    text
}

/// Debian's CRS setup with the paranoia level set (its example, uncommented).
pub fn crs_setup(debian: &str) -> String {
    format!(
        "{debian}\n# The benchmark: paranoia level {PARANOIA}, as the gateway's WAF.\n\
         SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={PARANOIA}\"\n"
    )
}

fn exclusions() -> String {
    let mut text = String::new();
    for (id, why) in EXCLUDED_RULES {
        let _ = writeln!(text, "# {why}.\nSecRuleRemoveById {id}");
    }
    text
}

/// The file nginx loads: the engine config, the CRS setup, the CRS rules, then the exclusions
/// (`SecRuleRemoveById` must follow the rules it removes).
fn rules_file(dir: &Path) -> String {
    let file = |name: &str| dir.join(name).display().to_string();
    format!(
        "Include {}\nInclude {}\nInclude {CRS_RULES}/*.conf\nInclude {}\n",
        file("modsecurity.conf"),
        file("crs-setup.conf"),
        file("exclusions-after-crs.conf"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "# -- Rule engine --\n\
                        # SecRuleEngine On\n\
                        SecRuleEngine DetectionOnly\n\
                        SecRequestBodyAccess On\n\
                        SecResponseBodyAccess On\n\
                        SecTmpDir /tmp/\n\
                        SecAuditLog /var/log/nginx/modsec_audit.log\n\
                        SecUnicodeMapFile unicode.mapping 20127\n";

    #[test]
    fn the_engine_blocks_reads_json_requests_and_leaves_responses_alone() {
        let base_path = Path::new("/usr/share/nginx/docs/modsecurity/modsecurity.conf");
        let text = engine_config(BASE, base_path, Path::new("/scratch/msc"));
        let lines: Vec<&str> = text.lines().collect();
        for wanted in [
            "SecRuleEngine On",
            "SecRequestBodyAccess On",
            "SecResponseBodyAccess Off",
            "SecTmpDir /scratch/msc/tmp/",
            "SecDataDir /scratch/msc/data/",
            "SecAuditLog /scratch/msc/audit.log",
            "SecUnicodeMapFile /usr/share/nginx/docs/modsecurity/unicode.mapping 20127",
            "SecStatusEngine Off",
        ] {
            assert_eq!(
                lines.iter().filter(|l| **l == wanted).count(),
                1,
                "no single `{wanted}` in:\n{text}"
            );
        }
        assert!(!text.contains("DetectionOnly"), "{text}");
        assert!(text.contains("# SecRuleEngine On"), "comments are kept");
        assert!(text.contains("ctl:requestBodyProcessor=JSON"), "{text}");
        assert!(!text.contains("/var/log"), "{text}");
    }

    #[test]
    fn the_rules_file_loads_the_crs_at_paranoia_1_then_the_exclusions() {
        let rules = rules_file(Path::new("/scratch/msc"));
        let includes: Vec<&str> = rules.lines().collect();
        assert_eq!(
            includes,
            [
                "Include /scratch/msc/modsecurity.conf",
                "Include /scratch/msc/crs-setup.conf",
                "Include /usr/share/modsecurity-crs/rules/*.conf",
                "Include /scratch/msc/exclusions-after-crs.conf",
            ]
        );
        assert!(crs_setup("").contains("setvar:tx.paranoia_level=1\""));
        assert!(exclusions().contains("\nSecRuleRemoveById 920350\n"));
    }
}
