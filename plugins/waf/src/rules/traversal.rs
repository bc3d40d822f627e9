//! Path traversal and local file inclusion (CRS 930), remote file inclusion (CRS 931).

use super::{Class, Form, PatternRule, code_rule, rule};

/// The traversal and file inclusion rules.
pub(super) const RULES: &[PatternRule] = &[
    // Never exempt in prose: two levels up reach a file whatever text surrounds them.
    rule(
        "930100",
        "Path traversal",
        Class::Traversal,
        1,
        Form::Text,
        // Two levels up (`../../`), or `..;` / `..%` path-parameter tricks. One level
        // (`../images/logo.png`, `https://example.com/a/b/../c`) is how relative links read;
        // one level to a sensitive file is 930120's, and any level counts from paranoia 2.
        r"\.{2,}[\\/;]+\.{2,}[\\/;]|\.\.(?:;|%)",
    ),
    rule(
        "930105",
        "Path traversal (one level, anywhere)",
        Class::Traversal,
        2,
        Form::Text,
        r"(?:^|[\\/;=:])\.{2,}(?:[\\/;]+[^\s\\/;]|[\\/;]*$)",
    ),
    rule(
        "930110",
        "File inclusion wrapper",
        Class::Traversal,
        1,
        Form::Text,
        r"\b(?:php|file|zip|phar|expect|glob|data|jar|netdoc|compress\.zlib|compress\.bzip2|ogg|rar|ssh2(?:\.\w+)?)://|\bphp://(?:filter|input|stdin)",
    ),
    code_rule(
        "930120",
        "Sensitive system file",
        Class::Traversal,
        1,
        Form::Text,
        r"(?:^|[\\/])(?:etc[\\/](?:passwd|shadow|group|hosts|issue|sudoers|crontab|master\.passwd)|proc[\\/](?:self|\d+)[\\/]|windows[\\/](?:win\.ini|system\.ini|system32)|boot\.ini|winnt[\\/]|inetpub[\\/]|\.htaccess|\.htpasswd|\.git[\\/]|\.svn[\\/]|\.ssh[\\/]|id_rsa|web-inf[\\/]|\.env$|\.aws[\\/]credentials|var[\\/]log[\\/](?:[^\s\\/]+[\\/])*(?:[^\s\\/]*(?:log|\.)|messages|secure|[bw]tmp|dmesg|kern)|wp-config\.php)",
    ),
    rule(
        "931100",
        "Remote file inclusion by IP URL",
        Class::Traversal,
        2,
        Form::Text,
        r"^(?:ftp|https?)://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    ),
];
