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

mod print;
mod tokenize;

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::rules::Severity;
use print::Print;
use tokenize::{Token, tokenize, tokenize_up_to};

/// How many folded tokens make the fingerprint.
pub(crate) const FINGERPRINT_LEN: usize = 8;

/// One family of injection fingerprints.
pub(crate) struct Fingerprint {
    /// The CRS-style rule id, e.g. `942100`.
    pub(crate) id: &'static str,
    /// What the shape is, e.g. `SQLi tautology`.
    pub(crate) name: &'static str,
    /// The lowest paranoia level at which the fingerprint is active.
    pub(crate) paranoia: u8,
    /// How much a match scores ([`Severity::for_paranoia`]).
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
        severity: Severity::for_paranoia(paranoia),
        pattern,
    }
}

/// The fingerprints active at a paranoia level, compiled once.
pub(crate) struct SqliDetector {
    set: RegexSet,
    rules: Vec<&'static Fingerprint>,
    /// Whether every `--` and `#` starts a comment (from paranoia 2), see [`tokenize`].
    word_comments: bool,
}

impl SqliDetector {
    /// Compiles the fingerprints active at `paranoia` into one set; from paranoia 2, every
    /// `--` and `#` starts a comment.
    pub(crate) fn new(paranoia: u8) -> Self {
        let rules: Vec<&'static Fingerprint> = FINGERPRINTS
            .iter()
            .filter(|f| f.paranoia <= paranoia)
            .collect();
        let set = RegexSetBuilder::new(rules.iter().map(|f| f.pattern))
            .unicode(false)
            .build()
            .expect("built-in SQLi fingerprints are valid regexes");
        SqliDetector {
            set,
            rules,
            word_comments: paranoia >= 2,
        }
    }

    /// The fingerprint rules `text` (decoded, lower-case) matches, in any context.
    pub(crate) fn detect(&self, text: &str, found: &mut Vec<&'static Fingerprint>) {
        for quote in [None, Some(b'\''), Some(b'"')] {
            if let Some(q) = quote
                && !text.as_bytes().contains(&q)
            {
                continue;
            }
            let print = self.print(text, quote);
            if print.as_bytes().iter().any(|&class| is_structural(class))
                && self.set.is_match(print.as_bytes())
                && parses(print.as_str())
            {
                for index in self.set.matches(print.as_bytes()) {
                    if !found.iter().any(|f| f.id == self.rules[index].id) {
                        found.push(self.rules[index]);
                    }
                }
            }
        }
    }

    /// The fingerprint of `text` read in the `quote` context. The tokens are read
    /// [`FIRST_TOKENS`] at first, which is all the fingerprint of most values reads; only
    /// when it reads the last of them are all [`MAX_TOKENS`](tokenize::MAX_TOKENS) read.
    fn print(&self, text: &str, quote: Option<u8>) -> Print {
        let first = tokenize_up_to(text, quote, self.word_comments, FIRST_TOKENS);
        if first.len() < FIRST_TOKENS {
            // Every token of the value.
            return fingerprint_reading(&first).0;
        }
        let (print, read) = fingerprint_reading(&first);
        if read < first.len() {
            return print;
        }
        fingerprint_reading(&tokenize(text, quote, self.word_comments)).0
    }
}

/// Whether a token class gives a fingerprint an injection's structure: logic, a comparison, a
/// union, a statement, a stacked `;`, a comment, a clause keyword or a dangerous function.
/// Every fingerprint of [`FINGERPRINTS`] holds one, so a fingerprint of words, numbers,
/// strings and parentheses only (`nn`, `n`, `1`, `(n)`) skips the set: most values.
fn is_structural(class: u8) -> bool {
    matches!(
        class,
        b'&' | b'o' | b'U' | b'E' | b';' | b'c' | b'k' | b'B' | b'F'
    )
}

/// How many tokens [`SqliDetector::print`] reads at first.
const FIRST_TOKENS: usize = 16;

/// Whether a fingerprint can be read as SQL at all: a number, variable or closing parenthesis
/// followed directly by a string (`1s`) is a syntax error in every dialect, which is what prose
/// quoting a payload reads as (`what does 'or 1=1' mean`: `s&1o1s`); so is a dangerous
/// function whose call does not parse ([`call_parses`]).
fn parses(print: &str) -> bool {
    let bytes = print.as_bytes();
    !bytes
        .windows(2)
        .any(|pair| matches!(pair, [b'1' | b'v' | b')', b's']))
        && (0..bytes.len())
            .filter(|&at| bytes[at] == b'F')
            .all(|at| call_parses(&bytes[at + 1..]))
}

/// Whether the call after a dangerous function's name reads as a call: its arguments are
/// operands joined by operators or commas, never two operands in a row (`sleep(8 hours)`:
/// `F(1n)`), and three bare words do not follow it, which no alias or clause reads as
/// (`benchmark(ing) the new laptop`: `F(n)nnn`). A fingerprint cut off inside the call
/// parses.
fn call_parses(after: &[u8]) -> bool {
    if after.first() != Some(&b'(') {
        return true;
    }
    let mut depth = 0usize;
    let mut previous = b'(';
    for (at, &class) in after.iter().enumerate() {
        match class {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return !after[at + 1..].starts_with(b"nnn");
                }
            }
            b'1' | b'n' | b'v' | b's' if matches!(previous, b'1' | b'n' | b'v' | b's') => {
                return false;
            }
            _ => {}
        }
        previous = class;
    }
    true
}

/// Folds the tokens and returns the first [`FINGERPRINT_LEN`] classes as a string.
#[cfg(test)]
pub(crate) fn fingerprint(tokens: &[Token<'_>]) -> String {
    fingerprint_reading(tokens).0.as_str().to_owned()
}

/// The folded fingerprint of `tokens` (its first [`FINGERPRINT_LEN`] classes), and how many leading tokens it read (looking one ahead counts): the
/// fingerprint of any longer token sequence that starts with those tokens, and holds one more
/// at least, is the same.
fn fingerprint_reading(tokens: &[Token<'_>]) -> (Print, usize) {
    let mut out = Print::default();
    let last = tokens.len().saturating_sub(1);
    let mut i = 0;
    // One past the furthest token looked ahead at.
    let mut ahead = 0;
    while i < tokens.len() && out.len() < FINGERPRINT_LEN {
        let token = tokens[i];
        i += 1;
        match token.class {
            // A comment only matters where it cuts the query off.
            b'c' if i - 1 != last => continue,
            b'c' if out.last() == Some(b'c') => continue,
            b'N' => continue,
            // `collate nocase` changes how a comparison compares, not its shape.
            b'n' if token.word == "collate" => {
                ahead = ahead.max(i + 1);
                if tokens
                    .get(i)
                    .is_some_and(|t| matches!(t.class, b'n' | b's'))
                {
                    i += 1;
                }
                continue;
            }
            b'a' => {
                let previous = out.last();
                let binary = matches!(previous, Some(b'1' | b'n' | b'v' | b's' | b')'));
                if binary {
                    ahead = ahead.max(i + 1);
                }
                if binary
                    && tokens
                        .get(i)
                        .is_some_and(|t| matches!(t.class, b'1' | b'n' | b'v' | b's'))
                {
                    i += 1; // `1+1` folds to `1`
                }
                continue;
            }
            b'k' if matches!(token.word, "all" | "distinct") && out.last() == Some(b'U') => {
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
    (out, i.max(ahead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(input: &str, quote: Option<u8>) -> String {
        fingerprint(&tokenize(input, quote, true))
    }

    #[test]
    fn every_fingerprint_needs_a_structural_class() {
        let plain = regex::bytes::Regex::new(r"^[^&oUE;ckBF]*$").unwrap();
        for fingerprint in FINGERPRINTS {
            let pattern = regex::Regex::new(fingerprint.pattern).unwrap();
            // A pattern that matched a fingerprint of plain classes only would match one of
            // these: every combination of them up to three long.
            let classes = ["", "s", "1", "n", "v", "f", "(", ")", ",", "a"];
            for a in classes {
                for b in classes {
                    for c in classes {
                        let print = format!("{a}{b}{c}");
                        assert!(plain.is_match(print.as_bytes()));
                        assert!(!pattern.is_match(&print), "{} {print}", fingerprint.id);
                    }
                }
            }
        }
    }

    #[test]
    fn folds_comments_arithmetic_and_multi_word_keywords() {
        assert_eq!(print("x'/**/or/**/1=1", Some(b'\'')), "s&1o1");
        assert_eq!(print("-1 union all select 1+1,2", None), "1UE1,1");
        assert_eq!(print("1' order by 3--", Some(b'\'')), "sB1c");
        assert_eq!(print("1 or 'z' collate nocase='z'", None), "1&sos");
        assert_eq!(print("1 or 2 notnull", None), "1&1o");
    }

    #[test]
    fn reads_the_same_fingerprint_from_the_first_tokens() {
        let detector = SqliDetector::new(2);
        let long = "a b c d e f g h i j k l m n o p q r s t";
        for input in [
            long,
            "1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 or 1=1",
            "x' /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ /**/ or 1=1--",
            "1 not not not not not not not not not not not not not not not not union select 1",
            "a, b, c, d, e, f, g -- h",
            "1 collate x collate y collate z collate w collate v collate u collate t collate s or 1",
        ] {
            for quote in [None, Some(b'\''), Some(b'"')] {
                assert_eq!(
                    detector.print(input, quote).as_str(),
                    fingerprint(&tokenize(input, quote, true)),
                    "{input} {quote:?}"
                );
            }
        }
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
        // A comment marker right after an unbalanced closing quote is a comment, whatever
        // follows it.
        for login_bypass in ["admin' -- ab", "admin'--x", "admin'#a", "admin\"--x"] {
            assert!(hits(login_bypass).contains(&"942105"), "{login_bypass}");
        }
        assert!(hits("o'reilly media").is_empty());
        assert!(hits("select name from users where id = $1").is_empty());
        assert!(hits("5 and 10% off").is_empty());
        assert!(hits("what does 'or 1=1' mean in a lesson").is_empty());
        assert!(hits("the \"--verbose\" option").is_empty());
        assert!(hits("see \"#install\" below").is_empty());
        assert!(hits("use \"--\" as the delimiter").is_empty());
        assert!(hits("\"now we'll have to kill you.\" -- linus torvalds").is_empty());
        assert!(hits("\"i'll be back\" -- t. 800").is_empty());
    }

    #[test]
    fn reads_a_dangerous_function_only_in_a_call_that_parses() {
        let detector = SqliDetector::new(1);
        let hits = |text: &str| {
            let mut found = Vec::new();
            detector.detect(text, &mut found);
            found.iter().map(|f| f.id).collect::<Vec<_>>()
        };
        assert!(hits("sleep(8 hours) is the best medicine").is_empty());
        assert!(hits("benchmark(ing) the new laptop").is_empty());
        for probe in [
            "sleep(5)",
            "sleep(5) a b",
            "1 and sleep(5)",
            "benchmark(1000000,md5(1))",
            "extractvalue(1,concat(0x7e,version()))",
            "load_file('/etc/passwd')",
            "x' and updatexml(null,concat(0x3a,user()),null)-- -",
        ] {
            assert!(hits(probe).contains(&"942107"), "{probe}");
        }
    }
}
