//! The reference proxies the gateway is compared with (nginx, haproxy, nginx with ModSecurity
//! and the OWASP CRS): found on the machine,
//! or skipped — not selected by `--only`, switched off, or not installed in smoke mode — with
//! the reason the report gives.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::report::ReferenceStatus;
use super::scenarios::Scenario;

/// A reference proxy: how to find it, and whether this run wants it.
pub struct Reference {
    /// Its name.
    pub name: &'static str,
    /// The Debian packages that install it (`apt-get install <packages>`).
    pub packages: &'static str,
    /// The scenario it serves.
    pub scenario: Scenario,
    /// The option that switches it off (`--no-nginx`).
    pub switch: &'static str,
    /// Whether that option was left out.
    pub enabled: bool,
    /// Where it is installed, if it is.
    pub binary: fn() -> Option<PathBuf>,
    /// Its version line.
    pub version: fn(&Path) -> Option<String>,
}

/// What [`Reference::find`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// It runs: the binary to start and its version line.
    Run {
        /// Where it is installed.
        binary: PathBuf,
        /// `nginx -v`, `haproxy -v`.
        version: String,
    },
    /// Its scenario is skipped, for this reason.
    Skipped(String),
}

impl Reference {
    /// Whether it runs in a run measuring `selection`: skipped when not selected, switched off,
    /// or not installed in `smoke` mode; not installed in a full run is an error.
    pub fn find(&self, selection: &[Scenario], smoke: bool) -> anyhow::Result<Found> {
        let (name, number) = (self.name, self.scenario.number());
        if !selection.contains(&self.scenario) {
            return Ok(Found::Skipped("not selected (--only)".to_owned()));
        }
        if !self.enabled {
            return Ok(Found::Skipped(format!("switched off ({})", self.switch)));
        }
        match (self.binary)() {
            Some(binary) => {
                let version = (self.version)(&binary).unwrap_or_else(|| name.to_owned());
                Ok(Found::Run { binary, version })
            }
            None if smoke => {
                eprintln!("{name} is not installed: smoke mode skips scenario {number}");
                Ok(Found::Skipped(format!(
                    "not installed, so scenario {number} was not measured (smoke mode goes on \
                     without it)"
                )))
            }
            None => bail!(
                "{name} is not installed: run bench/run (it installs it), `apt-get install \
                 {}`, or pass {}",
                self.packages,
                self.switch
            ),
        }
    }
}

impl Found {
    /// The binary to start, when it runs.
    pub fn binary(&self) -> Option<&Path> {
        match self {
            Found::Run { binary, .. } => Some(binary),
            Found::Skipped(_) => None,
        }
    }

    /// What the report says about it, running with `workers` workers.
    pub fn status(self, workers: usize) -> ReferenceStatus {
        match self {
            Found::Run { version, .. } => ReferenceStatus::Ran { version, workers },
            Found::Skipped(why) => ReferenceStatus::Skipped(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(enabled: bool, installed: bool) -> Reference {
        Reference {
            name: "haproxy",
            packages: "haproxy",
            scenario: Scenario::Haproxy,
            switch: "--no-haproxy",
            enabled,
            binary: if installed {
                || Some(PathBuf::from("/usr/sbin/haproxy"))
            } else {
                || None
            },
            version: |_| Some("HAProxy version 2.6".to_owned()),
        }
    }

    #[test]
    fn a_missing_proxy_is_skipped_in_smoke_mode_and_an_error_otherwise() {
        let all = Scenario::ALL;
        let skipped = reference(true, false).find(&all, true).unwrap();
        assert!(matches!(&skipped, Found::Skipped(why) if why.contains("scenario 10")));
        let error = reference(true, false).find(&all, false).unwrap_err();
        assert!(
            error.to_string().contains("apt-get install haproxy"),
            "{error}"
        );
    }

    #[test]
    fn an_unselected_or_switched_off_proxy_is_never_looked_for() {
        let only_gateway = [Scenario::Gateway];
        assert_eq!(
            reference(true, false).find(&only_gateway, false).unwrap(),
            Found::Skipped("not selected (--only)".to_owned())
        );
        assert_eq!(
            reference(false, false).find(&Scenario::ALL, false).unwrap(),
            Found::Skipped("switched off (--no-haproxy)".to_owned())
        );
        let found = reference(true, true).find(&Scenario::ALL, false).unwrap();
        assert_eq!(found.binary(), Some(Path::new("/usr/sbin/haproxy")));
    }
}
