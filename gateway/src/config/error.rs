//! Configuration errors: what is wrong, where (file, line, column, key path) and how to fix it.
//!
//! The `Display` output is rustc-like and snapshot-tested
//! (`tests/fixtures/config/invalid/*.toml`); keep it stable:
//!
//! ```text
//! error: unknown key `upstreem`
//!   --> examples/broken.toml:14:1
//!    | in `routes[0].integration`
//!    = help: expected one of `type`, `upstream`, `status`, `headers`, `body`
//! ```
//!
//! Lines whose data is absent are left out.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::model::Origin;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file, as the operator named it.
    pub file: PathBuf,
    /// 1-based line of the problem, when it has a place in the file.
    pub line: Option<u32>,
    /// 1-based column (in characters) of the problem, when it has a place in the file.
    pub column: Option<u32>,
    /// The dotted key path, e.g. `routes[2].integration.upstream` or `plugins.auth.deadline_ms`.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl ConfigError {
    /// An error at a place recorded while parsing: used for problems found after the config was
    /// validated, e.g. by the plugin host (a missing `.wasm`, a file that is not a component, a
    /// plugin whose `init` rejects its config).
    pub fn at(origin: &Origin, message: impl Into<String>, help: Option<String>) -> ConfigError {
        ConfigError {
            file: origin.file.clone(),
            line: Some(origin.line),
            column: Some(origin.column),
            key: Some(origin.key.clone()),
            message: message.into(),
            help,
        }
    }

    /// An error about the file as a whole (unreadable, not UTF-8, no listeners, …).
    pub(super) fn in_file(file: &Path, message: impl Into<String>, help: Option<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            help,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        write!(f, "\n  --> {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, "\n   | in `{key}`")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n   = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a configuration file (at least one), in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

/// Turns byte spans of one config text into places (line, column) for errors and origins.
pub(super) struct Locator<'a> {
    /// The config file, as the operator named it.
    pub(super) file: &'a Path,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(super) fn new(file: &'a Path, text: &'a str) -> Self {
        Locator { file, text }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub(super) fn line_column(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (to_u32(line), to_u32(column))
    }

    /// An error at `span` (or about the whole file when `span` is `None`).
    pub(super) fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ConfigError {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = self.line_column(span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            key,
            message: message.into(),
            help,
        }
    }

    /// The place of `span`, kept in the validated config for errors found later.
    pub(super) fn origin(&self, span: Range<usize>, key: impl Into<String>) -> Origin {
        let (line, column) = self.line_column(span.start);
        Origin {
            file: self.file.to_path_buf(),
            line,
            column,
            key: key.into(),
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> ConfigError {
        ConfigError {
            file: PathBuf::from("examples/broken.toml"),
            line: Some(14),
            column: Some(1),
            key: Some("routes[0].integration".into()),
            message: "unknown key `upstreem`".into(),
            help: Some("expected one of `type`, `upstream`, `status`, `headers`, `body`".into()),
        }
    }

    #[test]
    fn displays_like_rustc() {
        assert_eq!(
            error().to_string(),
            "error: unknown key `upstreem`\n  --> examples/broken.toml:14:1\n   | in \
             `routes[0].integration`\n   = help: expected one of `type`, `upstream`, `status`, \
             `headers`, `body`"
        );
    }

    #[test]
    fn omits_lines_whose_data_is_absent() {
        let e = ConfigError::in_file(Path::new("gw.toml"), "no listeners", None);
        assert_eq!(e.to_string(), "error: no listeners\n  --> gw.toml");
    }

    #[test]
    fn separates_errors_with_a_blank_line() {
        let errors = ConfigErrors(vec![
            error(),
            ConfigError::in_file(Path::new("a"), "b", None),
        ]);
        assert!(errors.to_string().contains("`body`\n\nerror: b\n  --> a"));
    }

    #[test]
    fn builds_an_error_at_an_origin() {
        let origin = Locator::new(Path::new("gw.toml"), "a = 1\n  path = \"x\"\n")
            .origin(15..18, "plugins.auth.path");
        assert_eq!((origin.line, origin.column), (2, 10));
        let e = ConfigError::at(&origin, "file not found", Some("check the path".into()));
        assert_eq!(
            e.to_string(),
            "error: file not found\n  --> gw.toml:2:10\n   | in `plugins.auth.path`\n   = help: \
             check the path"
        );
    }

    #[test]
    fn counts_columns_in_characters() {
        let loc = Locator::new(Path::new("x"), "k = \"é\" # x\nb");
        assert_eq!(loc.line_column(9), (1, 9));
        assert_eq!(loc.line_column(13), (2, 1));
    }
}
