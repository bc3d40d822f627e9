//! SQL injection detection by tokenizing, not by matching keywords.
//!
//! Every value is tokenized three times ([`tokenize`]): as it is (a number or identifier
//! context), and as if pasted after a `'` and after a `"` (string contexts; only when the value
//! holds that quote). Each token sequence is folded (inner comments, `not`, unary and binary
//! arithmetic disappear; `union all` and `order by` become one token) and its first
//! [`FINGERPRINT_LEN`] classes form the fingerprint, which is matched against the
//! [`FINGERPRINTS`] of known injection shapes: a string or number closed and followed by logic
//! and a comparison (tautology), a union, a stacked statement, a comment that cuts the rest of
//! the query off, a probing `order by`, a dangerous function. Prose rarely produces these
//! shapes: `O'Reilly` reads `sn`, `1 or 2 apples` reads `1&1n`, `SELECT a FROM t` reads
//! `Enkn`, while `1' or '1'='1` reads `s&sos`.

mod tokenize;

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::rules::Severity;
use tokenize::{Token, tokenize};

/// How many folded tokens make the fingerprint.
pub(crate) const FINGERPRINT_LEN: usize = 8;

/// One family of injection fingerprints.
pub(crate) struct Fingerprint {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) paranoia: u8,
    pub(crate) severity: Severity,
    /// A regex over the fingerprint (token classes as characters).
    pub(crate) pattern: &'static str,
}

/// The known injection shapes.
pub(crate) const FINGERPRINTS: &[Fingerprint] = &[
    fp("942100", "SQLi tautology", 1, r"^[s1]\)*&\(*[1nvs]\)*o"),
    fp(
        "942101",
        "SQLi logic then function or subquery",
        1,
        r"^[s1]\)*&\(*(?:[fFE]|n\()",
    ),
    fp(
        "942102",
        "SQLi logic then comment",
        1,
        r"^s\)*&\(*[1nv]\)*[c;]|^s\)*&\(*[1v]\)*$|^1\)*&\(*[1v]\)*[c;]",
    ),
    fp(
        "942103",
        "SQLi union",
        1,
        r"^[s1n]?\)*U\(*E\(*(?:k|[1nvsfF]\)*(?:[,kco(]|$))",
    ),
    fp("942104", "SQLi stacked query", 1, r"^[s1]?\)*;\(*E"),
    fp("942105", "SQLi comment truncation", 1, r"^s\)*c"),
    fp(
        "942106",
        "SQLi column probing",
        1,
        r"^[s1]\)*B\(*[1nfF]|^[s1]\)*k\(*[1nvs]\)*o",
    ),
    fp("942107", "SQLi dangerous function", 1, r"(?:^|[&o;,(E])F\("),
    fp(
        "942200",
        "SQLi (identifier context) tautology or subquery",
        2,
        r"^n\)*&\(*(?:[1nvs]\)*o|[fFE])",
    ),
    fp(
        "942201",
        "SQLi (identifier context) union or stacked",
        2,
        r"^n\)*(?:U\(*E|;\(*E)",
    ),
    fp(
        "942202",
        "SQLi string comparison",
        2,
        r"^s\)*o\(*[s1n]\)*(?:&|c|;|$)",
    ),
    fp("942300", "SQL statement", 3, r"^E[^k]*k"),
];

const fn fp(
    id: &'static str,
    name: &'static str,
    paranoia: u8,
    pattern: &'static str,
) -> Fingerprint {
    Fingerprint {
        id,
        name,
        paranoia,
        severity: if paranoia == 1 {
            Severity::Critical
        } else {
            Severity::Error
        },
        pattern,
    }
}

/// The fingerprints active at a paranoia level, compiled once.
pub(crate) struct SqliDetector {
    set: RegexSet,
    rules: Vec<&'static Fingerprint>,
}

impl SqliDetector {
    pub(crate) fn new(paranoia: u8) -> Self {
        let rules: Vec<&'static Fingerprint> = FINGERPRINTS
            .iter()
            .filter(|f| f.paranoia <= paranoia)
            .collect();
        let set = RegexSetBuilder::new(rules.iter().map(|f| f.pattern))
            .unicode(false)
            .build()
            .expect("built-in SQLi fingerprints are valid regexes");
        SqliDetector { set, rules }
    }

    /// The fingerprint rules `text` (decoded, lower-case) matches, in any context.
    pub(crate) fn detect(&self, text: &str, found: &mut Vec<&'static Fingerprint>) {
        for quote in [None, Some(b'\''), Some(b'"')] {
            if let Some(q) = quote
                && !text.as_bytes().contains(&q)
            {
                continue;
            }
            let print = fingerprint(&tokenize(text, quote));
            if self.set.is_match(print.as_bytes()) {
                for index in self.set.matches(print.as_bytes()) {
                    if !found.iter().any(|f| f.id == self.rules[index].id) {
                        found.push(self.rules[index]);
                    }
                }
            }
        }
    }
}

/// Folds the tokens and returns the first [`FINGERPRINT_LEN`] classes as a string.
pub(crate) fn fingerprint(tokens: &[Token<'_>]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(FINGERPRINT_LEN + 1);
    let last = tokens.len().saturating_sub(1);
    let mut i = 0;
    while i < tokens.len() && out.len() < FINGERPRINT_LEN {
        let token = tokens[i];
        i += 1;
        match token.class {
            // A comment only matters where it cuts the query off.
            b'c' if i - 1 != last => continue,
            b'c' if out.last() == Some(&b'c') => continue,
            b'N' => continue,
            b'a' => {
                let previous = out.last().copied();
                let binary = matches!(previous, Some(b'1' | b'n' | b'v' | b's' | b')'));
                if binary
                    && tokens
                        .get(i)
                        .is_some_and(|t| matches!(t.class, b'1' | b'n' | b'v' | b's'))
                {
                    i += 1; // `1+1` folds to `1`
                }
                continue;
            }
            b'k' if matches!(token.word, "all" | "distinct") && out.last() == Some(&b'U') => {
                continue;
            }
            b'k' if token.word == "by" && matches!(out.last(), Some(b'k')) => {
                out.pop();
                out.push(b'B');
                continue;
            }
            class => out.push(class),
        }
    }
    // Only ASCII class letters were pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(input: &str, quote: Option<u8>) -> String {
        fingerprint(&tokenize(input, quote))
    }

    #[test]
    fn folds_comments_arithmetic_and_multi_word_keywords() {
        assert_eq!(print("x'/**/or/**/1=1", Some(b'\'')), "s&1o1");
        assert_eq!(print("-1 union all select 1+1,2", None), "1UE1,1");
        assert_eq!(print("1' order by 3--", Some(b'\'')), "sB1c");
    }

    #[test]
    fn flags_injections_and_passes_prose() {
        let detector = SqliDetector::new(1);
        let hits = |text: &str| {
            let mut found = Vec::new();
            detector.detect(text, &mut found);
            found.iter().map(|f| f.id).collect::<Vec<_>>()
        };
        assert_eq!(hits("1' or '1'='1"), ["942100"]);
        assert!(hits("admin'--").contains(&"942105"));
        assert!(hits("o'reilly media").is_empty());
        assert!(hits("select name from users where id = $1").is_empty());
        assert!(hits("5 and 10% off").is_empty());
    }
}
