//! What a fixture run found: per file and per case, with the failed expectations, rendered as
//! `wasmgate plugin test` prints it.

use std::fmt;
use std::path::PathBuf;

use super::diff::Mismatch;

/// The outcome of every fixture file of a directory.
#[derive(Debug, Default)]
pub struct FixtureReport {
    /// One entry per file, in file-name order.
    pub files: Vec<FileReport>,
}

/// The outcome of one fixture file.
#[derive(Debug)]
pub struct FileReport {
    /// The fixture file.
    pub path: PathBuf,
    /// Why the file could not run at all (unreadable, invalid, the plugin did not load).
    pub error: Option<String>,
    /// Each case, in order.
    pub cases: Vec<CaseReport>,
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseReport {
    /// The case's `name`.
    pub name: String,
    /// The stage it called.
    pub stage: String,
    /// What did not hold (empty: the case passed).
    pub mismatches: Vec<Mismatch>,
}

impl FixtureReport {
    /// Whether every file ran and every case passed (and there was at least one file).
    pub fn passed(&self) -> bool {
        !self.files.is_empty()
            && self
                .files
                .iter()
                .all(|f| f.error.is_none() && f.cases.iter().all(|c| c.mismatches.is_empty()))
    }

    /// (passed cases, failed cases, files that could not run).
    pub fn counts(&self) -> (usize, usize, usize) {
        let cases = self.files.iter().flat_map(|f| &f.cases);
        let failed = cases.clone().filter(|c| !c.mismatches.is_empty()).count();
        let broken = self.files.iter().filter(|f| f.error.is_some()).count();
        (cases.count() - failed, failed, broken)
    }
}

impl fmt::Display for FixtureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(f, "{}", file.path.display())?;
            if let Some(error) = &file.error {
                writeln!(f, "  ERROR {}", error.replace('\n', "\n        "))?;
            }
            for case in &file.cases {
                let status = if case.mismatches.is_empty() {
                    "ok  "
                } else {
                    "FAIL"
                };
                writeln!(f, "  {status} {} ({})", case.name, case.stage)?;
                for mismatch in &case.mismatches {
                    let text = mismatch.to_string().replace('\n', "\n         ");
                    writeln!(f, "         {text}")?;
                }
            }
        }
        let (passed, failed, broken) = self.counts();
        write!(f, "{passed} passed, {failed} failed")?;
        if broken > 0 {
            write!(f, ", {broken} fixture file(s) could not run")?;
        }
        if self.files.is_empty() {
            write!(f, " (no fixtures/*.toml found)")?;
        }
        Ok(())
    }
}
