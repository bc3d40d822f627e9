//! Turning an inspected value into the forms the detectors match on.
//!
//! ```text
//! raw ──► URL-decode (repeated, %uXXXX, overlong UTF-8) ──► HTML entities ──► JS escapes
//!     ──► NUL removal ──► lower-case                                          = `text`
//! text ──► comments /* … */ removed, whitespace runs collapsed to one space   = `compact`
//! text ──► shell quoting (\ ' " ^) removed, whitespace collapsed              = `cmdline`
//! ```
//!
//! Decoding is repeated until the value stops changing (at most [`MAX_ROUNDS`] rounds), so
//! double- and triple-encoded payloads reach the detectors in clear.

use std::borrow::Cow;

/// The most decoding rounds applied to one value.
pub(crate) const MAX_ROUNDS: usize = 4;

/// A value in the forms the detectors use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Normalized {
    /// Fully decoded, NUL-free, lower-case.
    pub(crate) text: String,
    /// Whether decoding met a NUL byte (removed from `text`).
    pub(crate) nul: bool,
    /// `text` with `/* … */` comments removed and whitespace collapsed.
    compact: Compact,
    /// `text` as a shell would read it: quotes, backslashes and carets removed.
    cmdline: Cmdline,
}

/// Where the `compact` form of a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Compact {
    /// Same as `text`.
    Text,
    /// `text[start..end]`: `text` without the spaces at its ends.
    Trimmed(usize, usize),
    /// A text of its own.
    Own(String),
}

/// Where the `cmdline` form of a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cmdline {
    /// Same as `text`.
    Text,
    /// Same as `compact`.
    Compact,
    /// A text of its own.
    Own(String),
}

impl Normalized {
    /// `text` with `/* … */` comments removed and whitespace collapsed.
    pub(crate) fn compact(&self) -> &str {
        match &self.compact {
            Compact::Text => &self.text,
            Compact::Trimmed(start, end) => &self.text[*start..*end],
            Compact::Own(compact) => compact,
        }
    }

    /// `text` as a shell would read it: quotes, backslashes and carets removed, line breaks
    /// read as `;`.
    pub(crate) fn cmdline(&self) -> &str {
        match &self.cmdline {
            Cmdline::Text => &self.text,
            Cmdline::Compact => self.compact(),
            Cmdline::Own(cmdline) => cmdline,
        }
    }
}

/// Normalises a value. `plus_is_space` applies to query strings, forms and cookies (not paths).
pub(crate) fn normalize(raw: &str, plus_is_space: bool) -> Normalized {
    let raw_traits = Traits::of(raw.as_bytes());
    let needs_decoding =
        raw_traits.has(NON_ASCII | ESCAPE) || (plus_is_space && raw_traits.has(PLUS));
    let (text, nul, traits) = if needs_decoding {
        let (text, nul) = decode_noting_nul(raw, plus_is_space);
        let text = text.to_lowercase();
        let traits = Traits::of(text.as_bytes());
        (text, nul, traits)
    } else {
        // Lower-casing ASCII letters changes none of the traits.
        (raw.to_ascii_lowercase(), false, raw_traits)
    };
    let inner_whitespace = traits.whitespace_run
        || (traits.has(NON_ASCII) && text.chars().any(|c| c != ' ' && c.is_whitespace()));
    let odd_whitespace = inner_whitespace || text.starts_with(' ') || text.ends_with(' ');
    let compact = if traits.comment || inner_whitespace {
        Compact::Own(compact(&text))
    } else if odd_whitespace {
        // Single spaces only: collapsing them only drops those at the ends.
        let start = text.len() - text.trim_start_matches(' ').len();
        let end = text.trim_end_matches(' ').len().max(start);
        Compact::Trimmed(start, end)
    } else {
        Compact::Text
    };
    let cmdline = if !odd_whitespace && !traits.has(SHELL) {
        Cmdline::Text
    } else if !traits.comment && !traits.has(SHELL | LINE_BREAK) {
        // Nothing for the shell to strip: both forms only collapse the whitespace.
        Cmdline::Compact
    } else {
        Cmdline::Own(cmdline(&text))
    };
    Normalized {
        text,
        nul,
        compact,
        cmdline,
    }
}

/// A byte above ASCII.
const NON_ASCII: u8 = 1;
/// `%`, `&`, `\\` or NUL: something a decoder may change.
const ESCAPE: u8 = 1 << 1;
/// `+`, a space in query strings, forms and cookies.
const PLUS: u8 = 1 << 2;
/// `\\`, `'`, `"`, `^` or `$`: something the `cmdline` form strips or may strip.
const SHELL: u8 = 1 << 3;
/// `\n` or `\r`, which the `cmdline` form reads as `;`.
const LINE_BREAK: u8 = 1 << 4;
/// Whitespace other than a space: tab, line feed, vertical tab, form feed, carriage return.
const CONTROL_SPACE: u8 = 1 << 5;

/// The [`Traits`] bits of each byte.
const BYTE_TRAITS: [u8; 256] = byte_traits();

const fn byte_traits() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0x80;
    while b < 256 {
        table[b] = NON_ASCII;
        b += 1;
    }
    table[b'%' as usize] = ESCAPE;
    table[b'&' as usize] = ESCAPE;
    table[0] = ESCAPE;
    table[b'\\' as usize] = ESCAPE | SHELL;
    table[b'+' as usize] = PLUS;
    table[b'\'' as usize] = SHELL;
    table[b'"' as usize] = SHELL;
    table[b'^' as usize] = SHELL;
    table[b'$' as usize] = SHELL;
    table[b'\t' as usize] = CONTROL_SPACE;
    table[b'\n' as usize] = CONTROL_SPACE | LINE_BREAK;
    table[0x0b] = CONTROL_SPACE;
    table[0x0c] = CONTROL_SPACE;
    table[b'\r' as usize] = CONTROL_SPACE | LINE_BREAK;
    table
}

/// What one pass over a value finds, to pick the work its normalisation needs.
struct Traits {
    /// The bits of [`BYTE_TRAITS`] of every byte, or-ed.
    bits: u8,
    /// Whitespace other than a space, or two spaces in a row.
    whitespace_run: bool,
    /// A `/*`.
    comment: bool,
}

impl Traits {
    fn of(bytes: &[u8]) -> Self {
        let mut bits = 0;
        let mut double_space = false;
        let mut comment = false;
        let mut previous = 0u8;
        for &b in bytes {
            bits |= BYTE_TRAITS[usize::from(b)];
            double_space |= b == b' ' && previous == b' ';
            comment |= b == b'*' && previous == b'/';
            previous = b;
        }
        Traits {
            bits,
            whitespace_run: double_space || bits & CONTROL_SPACE != 0,
            comment,
        }
    }

    /// Whether some byte has one of `bits`.
    fn has(&self, bits: u8) -> bool {
        self.bits & bits != 0
    }
}

/// Every decoding, repeated until stable.
#[cfg(test)]
pub(crate) fn decode(raw: &str, plus_is_space: bool) -> String {
    decode_noting_nul(raw, plus_is_space).0
}

/// Every decoding, repeated until stable, and whether the result held a NUL byte (removed).
fn decode_noting_nul(raw: &str, plus_is_space: bool) -> (String, bool) {
    let mut current = if plus_is_space {
        raw.replace('+', " ")
    } else {
        raw.to_owned()
    };
    for _ in 0..MAX_ROUNDS {
        // Each decoder only allocates when it finds something to decode.
        let url = url_decode(&current);
        let html = html_unescape(&url);
        let js = js_unescape(&html);
        if matches!(
            (&url, &html, &js),
            (Cow::Borrowed(_), Cow::Borrowed(_), Cow::Borrowed(_))
        ) || *js == *current
        {
            break;
        }
        current = js.into_owned();
    }
    let nul = current.contains('\0');
    if nul {
        current.retain(|c| c != '\0');
    }
    if !current.is_ascii() {
        current = current.chars().map(fold_lookalike).collect();
    }
    (current, nul)
}

/// Unicode look-alikes that servers "best-fit" map to ASCII path and markup characters.
fn fold_lookalike(c: char) -> char {
    match c {
        '\u{2215}' | '\u{2044}' | '\u{ff0f}' => '/',
        '\u{ff3c}' | '\u{2216}' => '\\',
        '\u{ff0e}' | '\u{2024}' => '.',
        '\u{ff1c}' | '\u{2039}' => '<',
        '\u{ff1e}' | '\u{203a}' => '>',
        '\u{ff07}' => '\'',
        '\u{ff02}' => '"',
        _ => c,
    }
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decoding, including IIS `%uXXXX` and overlong UTF-8 (`%c0%af` = `/`).
fn url_decode(input: &str) -> Cow<'_, str> {
    if !input.contains('%') {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(&b1), Some(&b2)) = (bytes.get(i + 1), bytes.get(i + 2))
                && let (Some(h), Some(l)) = (hex(b1), hex(b2))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            if matches!(bytes.get(i + 1), Some(b'u' | b'U'))
                && let Some(code) = bytes.get(i + 2..i + 6).and_then(parse_hex)
                && let Some(c) = char::from_u32(code)
            {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += 6;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    fix_overlong(&mut out);
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The longest hex escape read: six digits reach U+10FFFF, the last code point.
const MAX_HEX_DIGITS: usize = 6;

/// The code point `digits` (hex) spell; `None` when they are empty, not hex, more than
/// [`MAX_HEX_DIGITS`] or above U+10FFFF, so `\u{10000003c}` is not read as `<`.
fn parse_hex(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > MAX_HEX_DIGITS {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |acc, &d| hex(d).map(|d| acc << 4 | u32::from(d)))
        .filter(|&code| code <= 0x10_ffff)
}

/// Rewrites overlong two- and three-byte encodings of ASCII characters to the character.
fn fix_overlong(bytes: &mut Vec<u8>) {
    if !bytes.iter().any(|&b| b == 0xc0 || b == 0xc1 || b == 0xe0) {
        return;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        if (b == 0xc0 || b == 0xc1) && next & 0xc0 == 0x80 {
            out.push((b & 0x1f) << 6 | (next & 0x3f));
            i += 2;
        } else if b == 0xe0
            && next & 0xe0 == 0x80
            && bytes.get(i + 2).is_some_and(|c| c & 0xc0 == 0x80)
        {
            out.push((next & 0x3f) << 6 | (bytes[i + 2] & 0x3f));
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    *bytes = out;
}

/// HTML character references: numeric (`&#60;`, `&#x3c;`, with or without `;`) and the named
/// ones that matter for markup and scripts.
fn html_unescape(input: &str) -> Cow<'_, str> {
    if !input.contains('&') {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    if out == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// The character of the entity at the start of `s` (which starts with `&`) and its length.
fn entity(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    if bytes.get(1) == Some(&b'#') {
        let (radix, start) = match bytes.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let digits = bytes[start..]
            .iter()
            .take_while(|b| (**b as char).is_digit(radix))
            .count();
        if digits == 0 || digits > 8 {
            return None;
        }
        let code = u32::from_str_radix(&s[start..start + digits], radix).ok()?;
        let mut len = start + digits;
        if bytes.get(len) == Some(&b';') {
            len += 1;
        }
        return Some((char::from_u32(code).unwrap_or('\u{fffd}'), len));
    }
    let name_len = bytes[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let name = s[1..1 + name_len].to_ascii_lowercase();
    let c = match name.as_str() {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "sol" => '/',
        "bsol" => '\\',
        "colon" => ':',
        "semi" => ';',
        "lpar" => '(',
        "rpar" => ')',
        "equals" => '=',
        "grave" => '`',
        "tab" => '\t',
        "newline" => '\n',
        "nbsp" => ' ',
        "period" => '.',
        "comma" => ',',
        "excl" => '!',
        "num" => '#',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "lcub" | "lbrace" => '{',
        "rcub" | "rbrace" => '}',
        _ => return None,
    };
    let mut len = 1 + name_len;
    if bytes.get(len) == Some(&b';') {
        len += 1;
    }
    Some((c, len))
}

/// JavaScript / CSS escapes: `\uXXXX`, `\u{X…}`, `\xXX`.
fn js_unescape(input: &str) -> Cow<'_, str> {
    if !input.contains('\\') {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let decoded = match bytes.get(i + 1) {
                Some(b'u') if bytes.get(i + 2) == Some(&b'{') => {
                    // At most six digits and the brace: the search stays bounded.
                    let end = bytes[i + 3..]
                        .iter()
                        .take(MAX_HEX_DIGITS + 1)
                        .position(|&b| b == b'}');
                    end.and_then(|end| {
                        let code = parse_hex(&bytes[i + 3..i + 3 + end])?;
                        Some((char::from_u32(code)?, end + 4))
                    })
                }
                Some(b'u') => bytes
                    .get(i + 2..i + 6)
                    .and_then(parse_hex)
                    .and_then(char::from_u32)
                    .map(|c| (c, 6)),
                Some(b'x') => bytes
                    .get(i + 2..i + 4)
                    .and_then(parse_hex)
                    .and_then(char::from_u32)
                    .map(|c| (c, 4)),
                _ => None,
            };
            if let Some((c, len)) = decoded {
                out.push_str(&input[copied..i]);
                out.push(c);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    if copied == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[copied..]);
    Cow::Owned(out)
}

/// Removes `/* … */` comments (an unterminated one runs to the end) and collapses whitespace.
fn compact(text: &str) -> String {
    if !text.contains("/*") {
        return collapse_whitespace(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        out.push(' ');
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    collapse_whitespace(&out)
}

/// The command line a shell would see: `c\a"t"` reads as `cat`, `who$@ami` as `whoami`.
fn cmdline(text: &str) -> String {
    let mut stripped = strip_shell_quoting(text);
    // Expansions that expand to nothing when no arguments are set.
    for empty in ["$@", "$*", "$()", "${}"] {
        if stripped.contains(empty) {
            stripped = stripped.replace(empty, "");
        }
    }
    collapse_whitespace(&stripped)
}

/// `text` without `\`, `'`, `"` and `^`, line breaks (`\n`, `\r`) read as `;`. Every character
/// touched is ASCII, so the work is done on bytes.
fn strip_shell_quoting(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'\\' | b'\'' | b'"' | b'^' => {}
            b'\n' | b'\r' => out.push(b';'),
            _ => out.push(b),
        }
    }
    // Only whole ASCII bytes were removed or replaced by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// `text` with leading and trailing whitespace removed and every inner run of whitespace
/// (Unicode `White_Space`) replaced by one space.
fn collapse_whitespace(text: &str) -> String {
    if text.is_ascii() {
        return collapse_ascii_whitespace(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c == '\u{0b}' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// [`collapse_whitespace`] for ASCII text, where the whitespace is tab, line feed, vertical
/// tab, form feed, carriage return and space: copies the runs between whitespace whole.
fn collapse_ascii_whitespace(text: &str) -> String {
    let is_space = |b: &u8| matches!(b, b'\t'..=b'\r' | b' ');
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some(start) = rest.iter().position(|b| !is_space(b)) {
        let word = &rest[start..];
        let len = word.iter().position(is_space).unwrap_or(word.len());
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(&word[..len]);
        rest = &word[len..];
    }
    // ASCII in, ASCII out.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_repeated_percent_encoding() {
        assert_eq!(decode("%252e%252e%252f", false), "../");
        assert_eq!(decode("%u002e%u002e/", false), "../");
        assert_eq!(decode("..%c0%af..%c0%af", false), "../../");
    }

    #[test]
    fn decodes_html_and_js_escapes() {
        assert_eq!(decode("&#x3C;script&#62;", false), "<script>");
        assert_eq!(decode("&lt;img&gt;", false), "<img>");
        assert_eq!(decode("\\u003cscript\\x3e", false), "<script>");
        assert_eq!(decode("AT&T &amp co", false), "AT&T & co");
    }

    #[test]
    fn refuses_escapes_beyond_the_last_code_point() {
        assert_eq!(decode("\\u{3c}", false), "<");
        assert_eq!(decode("\\u{10000003c}", false), "\\u{10000003c}");
        assert_eq!(decode("\\u{110000}", false), "\\u{110000}");
        assert_eq!(decode("\\u{}", false), "\\u{}");
    }

    #[test]
    fn removes_nul_and_folds_case_and_comments() {
        let n = normalize("UNION/**/Sel%00ECT  a", false);
        assert_eq!(n.text, "union/**/select  a");
        assert!(n.nul);
        assert!(!normalize("union select", false).nul);
        assert_eq!(n.compact(), "union select a");
        assert_eq!(normalize("c\\a\"t\" /etc", false).cmdline(), "cat /etc");
        assert_eq!(normalize("a\nid", false).cmdline(), "a;id");
        assert_eq!(normalize(";who$@am$()i", false).cmdline(), ";whoami");
        assert_eq!(normalize("a+b", true).text, "a b");
        assert_eq!(normalize(" a b ", false).compact(), "a b");
        assert_eq!(normalize(" ", false).compact(), "");
        assert_eq!(normalize("a  b ", false).compact(), "a b");
        assert_eq!(normalize("ls -la ", false).cmdline(), "ls -la");
    }
}
