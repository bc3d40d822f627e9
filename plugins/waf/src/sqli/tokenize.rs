//! A SQL tokenizer in the spirit of libinjection: it reads any text as if it were a fragment of
//! a SQL statement (MySQL, PostgreSQL, MSSQL, Oracle and SQLite syntax together) and reduces it
//! to a sequence of token classes, the *fingerprint*.
//!
//! | class | meaning                                  | class | meaning                          |
//! |-------|------------------------------------------|-------|----------------------------------|
//! | `s`   | string literal                           | `k`   | keyword (`from`, `where`, …)     |
//! | `1`   | number, `null`, `true`, `false`          | `B`   | `order by` / `group by`          |
//! | `n`   | bare word / identifier                   | `U`   | `union` (`all`, `distinct`)      |
//! | `v`   | variable (`@x`, `@@version`)             | `E`   | statement (`select`, `drop`, …)  |
//! | `f`   | known function before `(`                | `F`   | dangerous function before `(`    |
//! | `&`   | logic (`and`, `or`, `xor`, `&&`, `\|\|`) | `o`   | comparison (`=`, `like`, `in`, …)|
//! | `a`   | arithmetic / bitwise                     | `c`   | comment                          |
//! | `( ) , ;` | themselves                           |       |                                  |

/// Tokenizing stops after this many tokens: the fingerprint is made of the first few (after
/// folding), so the rest of a long value cannot change it.
pub(crate) const MAX_TOKENS: usize = 64;

/// One token: its class and, for words, the word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) class: u8,
    pub(crate) word: &'a str,
}

/// The class of a lower-case word, `None` for a plain identifier. `called` says whether a `(`
/// follows it.
fn word_class(word: &str, called: bool) -> Option<u8> {
    let class = match word {
        "select" | "insert" | "update" | "delete" | "drop" | "create" | "alter" | "truncate"
        | "exec" | "execute" | "declare" | "shutdown" | "waitfor" | "grant" | "revoke"
        | "print" => b'E',
        "union" | "intersect" => b'U',
        "and" | "or" | "xor" => b'&',
        "like" | "rlike" | "regexp" | "is" | "in" | "between" | "sounds" | "glob" | "notnull" => {
            b'o'
        }
        // SQLite's and PostgreSQL's postfix `x isnull`; `isnull(x)` is MSSQL's function.
        "isnull" if !called => b'o',
        "div" | "mod" => b'a',
        "not" => b'N',
        "null" | "true" | "false" => b'1',
        "from" | "where" | "into" | "table" | "having" | "limit" | "offset" | "set" | "values"
        | "by" | "order" | "group" | "case" | "when" | "then" | "else" | "end" | "top"
        | "distinct" | "all" | "procedure" | "outfile" | "dumpfile" | "database" | "delay"
        | "join" => b'k',
        _ if called => return function_class(word),
        _ => return None,
    };
    Some(class)
}

/// `F` for functions used to probe or exfiltrate, `f` for other SQL functions.
fn function_class(word: &str) -> Option<u8> {
    let class = match word {
        "sleep"
        | "benchmark"
        | "pg_sleep"
        | "load_file"
        | "extractvalue"
        | "updatexml"
        | "xp_cmdshell"
        | "sp_executesql"
        | "openrowset"
        | "dbms_pipe.receive_message"
        | "utl_inaddr.get_host_address"
        | "utl_http.request"
        | "name_const"
        | "randomblob"
        | "sqlite_version"
        | "pg_read_file"
        | "dblink"
        | "make_set"
        | "elt" => b'F',
        "concat" | "concat_ws" | "group_concat" | "char" | "chr" | "nchar" | "ascii" | "ord"
        | "substring" | "substr" | "mid" | "version" | "database" | "user" | "system_user"
        | "current_user" | "session_user" | "schema" | "cast" | "convert" | "count" | "if"
        | "ifnull" | "iif" | "hex" | "unhex" | "md5" | "sha1" | "exp" | "floor" | "rand"
        | "length" | "len" | "lower" | "upper" | "db_name" | "object_id" | "suser_sname"
        | "is_srvrolemember" | "json_extract" | "row" | "coalesce" | "isnull" | "nullif"
        | "char_length" | "instr" | "left" | "right" | "reverse" | "trim" | "replace" => b'f',
        _ => return None,
    };
    Some(class)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.') || b >= 0x80
}

/// Tokenizes `input` (lower-case). With `quote`, the input is read as if it followed that
/// opening quote, the way it lands when an application pastes it inside a string literal.
/// Without `word_comments`, `--` and `#` directly before a letter or digit are not comments,
/// nor is one that holds the quote the value is read inside: `"--verbose" option`, `"#anchor"`
/// and `"--" as the delimiter` are how prose quotes options and anchors, and `--` before a
/// word is a dash (`"…" -- Alan Perlis`), while injections end with `--`, `-- -`, `--+` or
/// `#`.
pub(crate) fn tokenize(input: &str, quote: Option<u8>, word_comments: bool) -> Vec<Token<'_>> {
    tokenize_up_to(input, quote, word_comments, MAX_TOKENS)
}

/// [`tokenize`], stopping after `limit` tokens (at most [`MAX_TOKENS`]): the first `limit`
/// tokens of the whole sequence.
pub(crate) fn tokenize_up_to(
    input: &str,
    quote: Option<u8>,
    word_comments: bool,
    limit: usize,
) -> Vec<Token<'_>> {
    let limit = limit.min(MAX_TOKENS);
    let bytes = input.as_bytes();
    // At most one token per byte, and the opening string of a quote context.
    let mut tokens = Vec::with_capacity(limit.min(bytes.len() + 1));
    let mut i = 0;
    // `#` starts a comment (MySQL) unless the text reads as code around it (`$('#id')`).
    let mut hash_comments = true;
    // Whether `i` is still right after the quote the value is read inside, closed after some
    // text (`admin'`): a `--` or `#` there always starts a comment (`admin'--x`, `admin'#a`,
    // `admin' -- ab`), unless the quotes balance and the marker is itself quoted (`the
    // "--verbose" option`). A value that opens with the quote is a quotation.
    let mut after_close = false;
    let mut balanced = true;
    if let Some(q) = quote {
        i = end_of_string(bytes, 0, q);
        after_close = i > 1 && bytes.get(i - 1) == Some(&q);
        balanced = bytes.iter().filter(|&&b| b == q).count() % 2 == 0;
        hash_comments = !input[..i].contains(['(', ')', '{', '}', '[', ']', '$', '<', '=']);
        tokens.push(Token {
            class: b's',
            word: "",
        });
    }
    let mut in_exec_comment = false;
    // The end of the current line, found once per line rather than once per comment marker.
    let mut line_end = 0;
    let push = |tokens: &mut Vec<Token<'_>>, class: u8| tokens.push(Token { class, word: "" });
    while i < bytes.len() && tokens.len() < limit {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        // Still only whitespace since the closing quote?
        let right_after_close = after_close;
        after_close &= b.is_ascii_whitespace();
        match b {
            b'-' | b'#'
                if right_after_close
                    && ((b == b'#' && hash_comments) || (b == b'-' && next == b'-'))
                    && !(balanced && quote.is_some_and(|q| quoted_word_at(bytes, i, q))) =>
            {
                line_end = next_line_end(bytes, i, line_end);
                push(&mut tokens, b'c');
                i = line_end;
            }
            b'\'' | b'"' => {
                i = end_of_string(bytes, i + 1, b);
                push(&mut tokens, b's');
            }
            b'`' => {
                i = end_of_string(bytes, i + 1, b);
                push(&mut tokens, b'n');
            }
            b'0'..=b'9' => {
                i = end_of_number(bytes, i);
                push(&mut tokens, b'1');
            }
            b'.' if next.is_ascii_digit() => {
                i = end_of_number(bytes, i + 1);
                push(&mut tokens, b'1');
            }
            b'@' => {
                let start = i;
                i += 1;
                while i < bytes.len() && (bytes[i] == b'@' || is_word_byte(bytes[i])) {
                    i += 1;
                }
                tokens.push(Token {
                    class: b'v',
                    word: &input[start..i],
                });
            }
            b'-' | b'#'
                if !word_comments
                    && (b == b'#' || next == b'-')
                    && bytes
                        .get(if b == b'#' { i + 1 } else { i + 2 })
                        .is_some_and(u8::is_ascii_alphanumeric) =>
            {
                i += if b == b'#' { 1 } else { 2 };
            }
            b'-' | b'#' if (b == b'-' && next == b'-') || (b == b'#' && hash_comments) => {
                line_end = next_line_end(bytes, i, line_end);
                let end = line_end;
                let marker = if b == b'#' { 1 } else { 2 };
                if !word_comments && starts_prose(&input[i + marker..end]) {
                    // A dash before words is an attribution or an aside (`"…" -- Alan Perlis`):
                    // read on.
                    i += marker;
                    continue;
                }
                // A "comment" that closes the quote the value was read inside is a quotation
                // (`"--" as the delimiter`, `"# " header`), not the end of a query.
                if word_comments || !quote.is_some_and(|q| bytes[i..end].contains(&q)) {
                    push(&mut tokens, b'c');
                }
                i = end;
            }
            b'/' if next == b'*' => {
                if bytes.get(i + 2) == Some(&b'!') {
                    // MySQL executable comment: its content is code.
                    i += 3;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    in_exec_comment = true;
                } else {
                    i = input[i + 2..]
                        .find("*/")
                        .map_or(bytes.len(), |p| i + 2 + p + 2);
                    push(&mut tokens, b'c');
                }
            }
            b'*' if next == b'/' && in_exec_comment => {
                in_exec_comment = false;
                i += 2;
            }
            b'&' if next == b'&' => {
                i += 2;
                push(&mut tokens, b'&');
            }
            b'|' if next == b'|' => {
                i += 2;
                push(&mut tokens, b'&');
            }
            b'=' => {
                i += 1;
                push(&mut tokens, b'o');
            }
            b'<' | b'>' | b'!' if matches!(next, b'=' | b'>' | b'<') => {
                i += if bytes.get(i + 2) == Some(&b'>') {
                    3
                } else {
                    2
                };
                push(&mut tokens, b'o');
            }
            b'<' | b'>' => {
                i += 1;
                push(&mut tokens, b'o');
            }
            b':' if next == b'=' => {
                i += 2;
                push(&mut tokens, b'o');
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'~' | b'&' | b'|' | b'!' => {
                i += 1;
                push(&mut tokens, b'a');
            }
            b'(' | b')' | b',' | b';' => {
                i += 1;
                push(&mut tokens, b);
            }
            _ if is_word_byte(b) => {
                let start = i;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &input[start..i];
                let called = bytes[i..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|&b| b == b'(');
                let class = word_class(word, called).unwrap_or(b'n');
                tokens.push(Token { class, word });
            }
            _ => i += 1,
        }
    }
    tokens
}

/// Whether the word at `at` (up to the next whitespace) ends with the quote `q`: a quoted
/// option or anchor (`--verbose"`, `#top"`).
fn quoted_word_at(bytes: &[u8], at: usize, q: u8) -> bool {
    bytes[at..]
        .iter()
        .take_while(|b| !b.is_ascii_whitespace())
        .last()
        == Some(&q)
}

/// The index after the line break that ends the line holding `at` (or the end of `bytes`);
/// `known` is the last answer, reused while it lies beyond `at`, so a value full of comment
/// markers is scanned for line breaks once, not once per marker.
fn next_line_end(bytes: &[u8], at: usize, known: usize) -> usize {
    if known > at {
        return known;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p + 1)
}

/// Whether `text` is a space and then prose: a word of two letters or more, maybe quoted, with
/// apostrophes, followed by punctuation (`-- Alan Perlis`, `-- "Spaceballs"`), or a one-letter
/// word and another (`-- G. Fitch`).
fn starts_prose(text: &str) -> bool {
    if !text.starts_with(char::is_whitespace) {
        return false;
    }
    let word = |word: &str| {
        let word = word.trim_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '(', ')']);
        let letters = word
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'\'' || b >= 0x80);
        (letters && !word.is_empty()).then_some(word.len())
    };
    let mut words = text.split_whitespace();
    let first = text.split_whitespace().next().unwrap_or_default();
    match words.next().and_then(word) {
        Some(len) if len >= 2 => true,
        // An initial (`-- G. Fitch`) or an article (`-- a prisoner`) and another word; after
        // an initial, a number names too (`-- T. 800`).
        Some(_) => words.next().is_some_and(|next| {
            word(next).is_some()
                || (first.ends_with('.') && next.bytes().all(|b| b.is_ascii_alphanumeric()))
        }),
        None => false,
    }
}

/// The index after the string that starts at `start` (after its opening quote `q`). A doubled
/// quote or a backslash escapes; an unterminated string runs to the end.
fn end_of_string(bytes: &[u8], start: usize, q: u8) -> usize {
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == q {
            if bytes.get(i + 1) == Some(&q) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn end_of_number(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'b')) {
        i += 2;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'e' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(input: &str, quote: Option<u8>) -> String {
        tokenize(input, quote, true)
            .iter()
            .map(|t| t.class as char)
            .collect()
    }

    #[test]
    fn reads_a_tautology_inside_a_string() {
        assert_eq!(classes("1' or '1'='1", Some(b'\'')), "s&sos");
        assert_eq!(classes("x' or 1=1--", Some(b'\'')), "s&1o1c");
    }

    #[test]
    fn tells_functions_from_words() {
        assert_eq!(classes("sleep(5)", None), "F(1)");
        assert_eq!(classes("sleep well", None), "nn");
        assert_eq!(classes("/*!50000union*/ select", None), "UE");
    }
}
