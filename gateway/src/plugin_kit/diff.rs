//! What a failed fixture case shows: each expectation that did not hold, expected against
//! actual, with a line diff for multi-line values (pretty-printed JSON bodies).

use std::fmt;

/// One expectation of a case that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was checked, e.g. `status`, `header content-type`, `body (JSON)`.
    pub what: String,
    /// The expected value, as text.
    pub expected: String,
    /// The actual value, as text.
    pub actual: String,
}

impl Mismatch {
    /// A mismatch of `what`.
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Mismatch {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.expected.contains('\n') && !self.actual.contains('\n') {
            return write!(
                f,
                "{}:\n    expected: {}\n    actual:   {}",
                self.what, self.expected, self.actual
            );
        }
        writeln!(f, "{}: (- expected, + actual)", self.what)?;
        let expected: Vec<&str> = self.expected.lines().collect();
        let actual: Vec<&str> = self.actual.lines().collect();
        let lines = line_diff(&expected, &actual);
        for (i, (sign, line)) in lines.iter().enumerate() {
            let end = if i + 1 == lines.len() { "" } else { "\n" };
            write!(f, "    {sign} {line}{end}")?;
        }
        Ok(())
    }
}

/// A line diff of `a` (expected) against `b` (actual) by longest common subsequence: each
/// line marked `-` (only expected), `+` (only actual) or ` ` (both).
fn line_diff<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i]));
            i += 1;
        } else {
            out.push(('+', b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_a_one_line_mismatch_as_expected_and_actual() {
        let text = Mismatch::new("status", "401", "200").to_string();
        assert_eq!(text, "status:\n    expected: 401\n    actual:   200");
    }

    #[test]
    fn diffs_multi_line_values_line_by_line() {
        let text = Mismatch::new(
            "body",
            "{\n  \"a\": 1,\n  \"b\": 2\n}",
            "{\n  \"a\": 1,\n  \"b\": 3\n}",
        )
        .to_string();
        assert_eq!(
            text,
            "body: (- expected, + actual)\n      {\n        \"a\": 1,\n    -   \"b\": 2\n    +   \"b\": 3\n      }"
        );
    }
}
