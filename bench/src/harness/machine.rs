//! What the report says about the machine and the run's conditions, read from `/proc` and the
//! tools themselves.

use std::path::Path;

/// The machine and tools the run used.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPUs the harness may use.
    pub cpus: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
    /// `/proc/loadavg`'s 1-minute figure when the run started (others may be compiling).
    pub load_at_start: String,
    /// The workspace's commit (`git rev-parse --short HEAD`, or `$WASMGATE_BENCH_COMMIT` for a
    /// tree exported without `.git`).
    pub commit: String,
    /// Whether the working tree differed from that commit when the run started (`git status`
    /// listed changed or untracked files), so the figures are not the commit's alone.
    pub uncommitted: bool,
}

impl Machine {
    /// Reads it now.
    pub fn read(workspace: &Path) -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_else(|| "unknown".into());
        let commit = git(workspace, &["rev-parse", "--short", "HEAD"]);
        // `--no-optional-locks`: read the tree without refreshing (writing) the index.
        let status = commit
            .as_ref()
            .and_then(|_| git(workspace, &["--no-optional-locks", "status", "--porcelain"]));
        Machine {
            cpus: cpus(),
            cpu_model,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_at_start: load_average(),
            commit: commit
                .or_else(|| std::env::var("WASMGATE_BENCH_COMMIT").ok())
                .unwrap_or_else(|| "unknown".into()),
            uncommitted: status.is_some_and(|s| !s.is_empty()),
        }
    }
}

/// `git <args>` in `workspace`: its trimmed output, `None` if git failed or is missing.
fn git(workspace: &Path, args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .current_dir(workspace)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// CPUs available to this process.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The 1-minute load average now.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn converts_days_to_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
    }
}
