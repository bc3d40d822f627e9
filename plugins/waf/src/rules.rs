//! The built-in pattern rules (XSS, path traversal / file inclusion, command injection, header
//! injection), modelled on the OWASP Core Rule Set families and numbered like them
//! (941 XSS, 930 LFI, 931 RFI, 932 RCE, 921 protocol attacks). SQL injection is detected by
//! tokenizing instead, see [`crate::sqli`].
//!
//! Every rule names the normalised form it reads ([`Form`]) and the lowest paranoia level at
//! which it is active. All the rules of one form are compiled into one [`regex::RegexSet`] at
//! `init`, so a value is scanned once per form whatever the number of rules.

use std::fmt;

/// How bad a match is; in anomaly mode a rule adds its severity's score (CRS values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// 5 points.
    Critical,
    /// 4 points.
    Error,
    /// 3 points.
    Warning,
}

impl Severity {
    pub(crate) fn score(self) -> u32 {
        match self {
            Severity::Critical => 5,
            Severity::Error => 4,
            Severity::Warning => 3,
        }
    }
}

/// The attack class of a rule, as configured in `classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Sqli,
    Xss,
    Traversal,
    Command,
    Protocol,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Sqli => "sqli",
            Class::Xss => "xss",
            Class::Traversal => "traversal",
            Class::Command => "command",
            Class::Protocol => "protocol",
        })
    }
}

/// The normalised form of a value a rule reads (see [`crate::normalize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Decoded, lower-case.
    Text,
    /// Decoded, lower-case, comments removed, whitespace collapsed.
    Compact,
    /// As a shell reads it.
    Cmdline,
}

/// A built-in pattern rule.
pub(crate) struct PatternRule {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) class: Class,
    pub(crate) paranoia: u8,
    pub(crate) severity: Severity,
    pub(crate) form: Form,
    pub(crate) pattern: &'static str,
}

const fn rule(
    id: &'static str,
    name: &'static str,
    class: Class,
    paranoia: u8,
    form: Form,
    pattern: &'static str,
) -> PatternRule {
    // Rules above paranoia 1 are broader: they score less, so one alone does not block at the
    // default threshold in anomaly mode.
    let severity = match paranoia {
        1 => Severity::Critical,
        2 => Severity::Error,
        _ => Severity::Warning,
    };
    PatternRule {
        id,
        name,
        class,
        paranoia,
        severity,
        form,
        pattern,
    }
}

/// Commands an injected shell fragment runs.
macro_rules! commands {
    () => {
        r"(?:cat|tac|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|dash|ksh|python[23]?|perl|ruby|php|ping|nslookup|dig|rm|chmod|chown|echo|printf|sleep|cmd|cmd\.exe|powershell|pwsh|ifconfig|ipconfig|net|type|dir|head|tail|more|less|nl|base64|xxd|env|printenv|set|ps|kill|telnet|ssh|scp|ftp|tftp|find|awk|sed|grep|touch|mkdir|cp|mv|systeminfo|tasklist|hostname|crontab|sudo|su|eval|exec|nohup|passwd|mkfifo)"
    };
}

/// What may follow an injected command: an option, a path, a number, a URL, a variable, or
/// the end of the command.
macro_rules! command_tail {
    () => {
        r"(?:\s+(?:-|/|\.|~|\$|\\|\d|https?:|[a-z]:|[a-z0-9_-]+\.[a-z]{2,}\b|\w+\s*[|;&>])|\s*(?:$|[;|&`)<>{}]))"
    };
}

/// Every built-in pattern rule.
pub(crate) const RULES: &[PatternRule] = &[
    // ── XSS (941) ──────────────────────────────────────────────────────────────────────────
    rule(
        "941110",
        "XSS script tag",
        Class::Xss,
        1,
        Form::Compact,
        r"<\s*script\b|</\s*script\s*>",
    ),
    rule(
        "941120",
        "XSS event handler attribute",
        Class::Xss,
        1,
        Form::Compact,
        r"<[a-z!/?][^>]*?[\s/'\x22]on[a-z]{3,}\s*=|(?:^|[\s'\x22;/])on(?:error|load|click|dblclick|mouse\w+|focus|blur|key\w+|submit|change|input|toggle|begin|end|animation\w+|transition\w+|pointer\w+|touch\w+|drag\w*|drop|copy|cut|paste|wheel|scroll|resize|unload|beforeunload|hashchange|message|pageshow|popstate|storage|play|pause|afterprint|beforeprint|show|search|select|invalid|reset|contextmenu|auxclick)\s*=\s*\S",
    ),
    rule(
        "941130",
        "XSS scriptable URL scheme",
        Class::Xss,
        1,
        Form::Compact,
        r#"(?:^|[\s'"`=(<:,;])(?:javascript|vbscript|livescript|mocha)\s*:\s*(?:/|[\w$.\[\]'"]+\s*[(`=]|[\w$.]+$)|(?:href|src|action|formaction|data|xlink:href|background|dynsrc|lowsrc|poster|srcdoc|from|to|values)\s*=\s*['"`]?\s*(?:javascript|vbscript|livescript)\s*:|(?:^|[\s'"=(])data\s*:\s*(?:text/html|text/xml|image/svg\+xml|application/(?:x-)?(?:javascript|xhtml))"#,
    ),
    rule(
        "941140",
        "XSS dangerous element",
        Class::Xss,
        1,
        Form::Compact,
        r"<\s*(?:iframe|frame|frameset|object|embed|applet|base|meta|link|svg|math|form|isindex|xss|import|template|portal)\b",
    ),
    rule(
        "941150",
        "XSS element with a script URL or handler",
        Class::Xss,
        1,
        Form::Compact,
        r"<\s*(?:img|image|video|audio|source|body|input|button|details|marquee|style|div|a|p|span|table|td|select|textarea|keygen|object)\b[^>]*(?:\bsrc\s*=\s*['\x22`]?\s*(?:x|#|/)?['\x22`]?\s*on|\bstyle\s*=[^>]*(?:expression|url\s*\(\s*['\x22]?\s*javascript))",
    ),
    rule(
        "941160",
        "XSS script API",
        Class::Xss,
        1,
        Form::Compact,
        r"\b(?:document\s*\.\s*(?:cookie|domain|write(?:ln)?)|window\s*\.\s*location|\.innerhtml\s*=|string\s*\.\s*fromcharcode|\batob\s*\(\s*['\x22`]|\beval\s*\(\s*(?:atob|unescape|string|location|name|['\x22`])|\b(?:alert|confirm|prompt)\s*(?:\(\s*(?:document|window|[\d'\x22`/])|`))",
    ),
    rule(
        "941170",
        "XSS CSS expression or binding",
        Class::Xss,
        1,
        Form::Compact,
        r"expression\s*\(\s*[a-z]|-moz-binding\s*:|behavior\s*:\s*url|@import\s+['\x22]?\s*(?:javascript|data):",
    ),
    rule(
        "941180",
        "XSS any HTML tag with attributes",
        Class::Xss,
        2,
        Form::Compact,
        r"<\s*[a-z]+[^>]*\s[a-z-]+\s*=\s*['\x22]?[^>]*>",
    ),
    rule(
        "941190",
        "XSS script function call",
        Class::Xss,
        2,
        Form::Compact,
        r"\b(?:alert|confirm|prompt|eval|settimeout|setinterval|fetch|importscripts)\s*\(",
    ),
    // ── Path traversal / local file inclusion (930) and remote inclusion (931) ──────────────
    rule(
        "930100",
        "Path traversal",
        Class::Traversal,
        1,
        Form::Text,
        r"(?:^|[\\/;=:])\.{2,}(?:[\\/;]+[^\s\\/;]|[\\/;]*$)|\.\.(?:;|%)",
    ),
    rule(
        "930110",
        "File inclusion wrapper",
        Class::Traversal,
        1,
        Form::Text,
        r"\b(?:php|file|zip|phar|expect|glob|data|jar|netdoc|compress\.zlib|compress\.bzip2|ogg|rar|ssh2(?:\.\w+)?)://|\bphp://(?:filter|input|stdin)",
    ),
    rule(
        "930120",
        "Sensitive system file",
        Class::Traversal,
        1,
        Form::Text,
        r"(?:^|[\\/])(?:etc[\\/](?:passwd|shadow|group|hosts|issue|sudoers|crontab|master\.passwd)|proc[\\/](?:self|\d+)[\\/]|windows[\\/](?:win\.ini|system\.ini|system32)|boot\.ini|winnt[\\/]|inetpub[\\/]|\.htaccess|\.htpasswd|\.git[\\/]|\.svn[\\/]|\.ssh[\\/]|id_rsa|web-inf[\\/]|\.env$|\.aws[\\/]credentials|var[\\/]log[\\/]|wp-config\.php)",
    ),
    rule(
        "931100",
        "Remote file inclusion by IP URL",
        Class::Traversal,
        2,
        Form::Text,
        r"^(?:ftp|https?)://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    ),
    // ── OS command injection (932) ──────────────────────────────────────────────────────────
    rule(
        "932100",
        "Command after a shell separator",
        Class::Command,
        1,
        Form::Cmdline,
        concat!(
            r"(?:[;|&\n`]|\|\||&&|\$\(|\$\{)\s*(?:/(?:usr/)?(?:s?bin)/)?",
            commands!(),
            command_tail!()
        ),
    ),
    rule(
        "932110",
        "Command substitution",
        Class::Command,
        1,
        Form::Cmdline,
        concat!(
            r"\$\(\s*(?:/(?:usr/)?(?:s?bin)/)?",
            commands!(),
            r"\b|`\s*(?:/(?:usr/)?(?:s?bin)/)?",
            commands!(),
            command_tail!()
        ),
    ),
    rule(
        "932120",
        "Shell evasion or reverse shell",
        Class::Command,
        1,
        Form::Cmdline,
        r"\$\{?ifs\}?|/dev/(?:tcp|udp)/|\bbash\s+-i\b|\bnc(?:at)?\s+(?:-\w+\s+)*-e\s|\{\s*[a-z]+\s*,\s*[-/.$\w]+[^}]*\}|\b(?:cmd(?:\.exe)?\s*/[ck]|powershell(?:\.exe)?\s+-(?:e|enc|encodedcommand|c|command|nop|w)\b)|\bmkfifo\s+/tmp/|\bnet\s+(?:user|localgroup|share|use|view)\b|\bxterm\s+-display\b",
    ),
    rule(
        "932130",
        "Absolute path to a shell binary",
        Class::Command,
        2,
        Form::Cmdline,
        r"(?:^|[\s;|&])/(?:usr/)?(?:s?bin)/[a-z]+",
    ),
    // ── Header injection / response splitting (921) ────────────────────────────────────────
    rule(
        "921130",
        "Header injection (CRLF)",
        Class::Protocol,
        1,
        Form::Text,
        r"[\r\n]\s*(?:set-cookie|location|content-(?:type|length|disposition)|transfer-encoding|refresh|access-control-[a-z-]+)\s*:|[\r\n]\s*http/\d",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn every_rule_compiles_and_ids_are_unique() {
        for (index, rule) in RULES.iter().enumerate() {
            Regex::new(rule.pattern).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            assert!(
                RULES[..index].iter().all(|other| other.id != rule.id),
                "{}",
                rule.id
            );
        }
    }
}
