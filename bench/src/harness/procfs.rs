//! What `/proc` says about a process: CPU time (`utime + stime` from `/proc/<pid>/stat`, all
//! threads) and resident memory (`VmRSS` from `/proc/<pid>/status`).

use std::time::Duration;

use anyhow::Context as _;

/// CPU time (user + system) used so far by `pids`, summed.
pub fn cpu_time(pids: &[u32]) -> anyhow::Result<Duration> {
    let ticks_per_second = rustix::param::clock_ticks_per_second();
    let mut ticks = 0;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        let (user, system) =
            parse_cpu_ticks(&stat).with_context(|| format!("parsing /proc/{pid}/stat"))?;
        ticks += user + system;
    }
    Ok(Duration::from_secs_f64(
        ticks as f64 / ticks_per_second as f64,
    ))
}

/// `pid` and its direct children (nginx's master and its workers).
pub fn with_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if parse_parent(&stat) == Some(pid) {
            pids.push(child);
        }
    }
    pids
}

/// Resident set size of `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    parse_rss_kib(&status)
        .map(|kib| kib * 1024)
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// Resident memory of `pid` split into anonymous and file-backed pages, in bytes.
pub fn rss_split(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name| {
        status_kib(&status, name)
            .map(|kib| kib * 1024)
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("RssAnon:")?, field("RssFile:")? + field("RssShmem:")?))
}

/// The fields after the command name, which may itself hold spaces and parentheses.
fn fields_after_command(stat: &str) -> Option<Vec<&str>> {
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// `(utime, stime)` in clock ticks: fields 14 and 15 of `/proc/<pid>/stat`.
fn parse_cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    let fields = fields_after_command(stat)?;
    // `fields[0]` is field 3 (state).
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

/// The parent pid: field 4 of `/proc/<pid>/stat`.
fn parse_parent(stat: &str) -> Option<u32> {
    fields_after_command(stat)?.get(1)?.parse().ok()
}

fn parse_rss_kib(status: &str) -> Option<u64> {
    status_kib(status, "VmRSS:")
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (tokio (w) 1) S 4200 4242 4200 0 -1 4194304 2500 0 0 0 \
                        731 215 0 0 20 0 3 0 123456 987654 2048 18446744073709551615";

    #[test]
    fn reads_cpu_ticks_past_a_command_name_with_spaces() {
        assert_eq!(parse_cpu_ticks(STAT), Some((731, 215)));
    }

    #[test]
    fn reads_the_parent_pid() {
        assert_eq!(parse_parent(STAT), Some(4200));
    }

    #[test]
    fn reads_resident_memory() {
        let status = "Name:\twasmgate\nVmPeak:\t  900 kB\nVmRSS:\t   35120 kB\nThreads:\t5\n";
        assert_eq!(parse_rss_kib(status), Some(35120));
    }

    #[test]
    fn measures_this_process() {
        let me = std::process::id();
        assert!(rss_bytes(me).unwrap() > 0);
        assert!(rss_split(me).unwrap().0 > 0);
        assert!(cpu_time(&[me]).is_ok());
    }
}
