//! Path traversal and local file inclusion (CRS 930), remote file inclusion (CRS 931).

use super::{Class, Context, Form, PatternRule, code_rule, rule, rule_in};

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
        // An ellipsis (`...`) alone is not a directory.
        r"(?:^|[\\/;=:])(?:\.{2,}[\\/;]+(?:[^\s\\/;]|$)|\.\.$)",
    ),
    rule(
        "930110",
        "File inclusion wrapper",
        Class::Traversal,
        1,
        Form::Text,
        r"\b(?:php|file|zip|phar|expect|glob|data|jar|netdoc|compress\.zlib|compress\.bzip2|ogg|rar|ssh2(?:\.\w+)?|gopher|dict)://|\bphp://(?:filter|input|stdin)",
    ),
    code_rule(
        "930120",
        "Sensitive system file",
        Class::Traversal,
        1,
        Form::Text,
        // `/./` and `//` inside the path change nothing for the file system
        // (`/etc/./passwd`, `/etc//passwd`).
        r"(?:^|[\\/])(?:etc[\\/]+(?:\.[\\/]+)*(?:passwd|shadow|group|hosts|issue|sudoers|crontab|master\.passwd|security[\\/]+passwd)|proc[\\/]+(?:self|\d+)[\\/]|windows[\\/]+(?:win\.ini|system\.ini|system32|repair[\\/])|system32[\\/]+config[\\/]+sam|boot\.ini|winnt[\\/]|inetpub[\\/]|\.htaccess|\.htpasswd|\.git[\\/]|\.svn[\\/]|\.ssh[\\/]|\.bash_history|id_rsa|web-inf[\\/]|\.env$|\.aws[\\/]credentials|\.docker[\\/]+config\.json|var[\\/]+run[\\/]+secrets[\\/]|var[\\/]log[\\/](?:[^\s\\/]+[\\/])*(?:[^\s\\/]*(?:log|\.)|messages|secure|[bw]tmp|dmesg|kern)|wp-config\.php)",
    ),
    // Broad: every path into a system directory (wherever it starts: `/static/../etc/x`
    // reaches it) and every file name that holds secrets or configuration, but for a single
    // mention in a sentence (`the site lives in /var/www/html`, `win.ini is a legacy config
    // file`).
    rule_in(
        Context::Mention,
        "930130",
        "System directory or sensitive file name",
        Class::Traversal,
        2,
        Form::Text,
        r"[\\/]+(?:(?:etc|proc|sys|root|boot|windows|winnt|inetpub|xampp|var[\\/]+(?:www|lib|run|mail|spool|backups)|opt[\\/]+lampp|usr[\\/]+local[\\/]+(?:etc|apache\d?|nginx))[\\/]+[\w.%-]|home[\\/]+[^\\/\s]+[\\/]+\.[a-z])|(?:^|[\\/])(?:win\.ini|system\.ini|boot\.ini|web\.config|php\.ini|httpd\.conf|nginx\.conf|my\.cnf|\.env(?:\.[a-z]+)?|\.ds_store|\.npmrc|\.pgpass|\.netrc|\.git-credentials|database\.yml|parameters\.yml|local_settings\.py|config\.php|configuration\.php|localsettings\.php|application\.(?:properties|ya?ml)|appsettings\.json|authorized_keys|known_hosts|id_(?:dsa|ecdsa|ed25519)(?:\.pub)?|manifest\.mf|web\.xml|server-(?:status|info)|ntds\.dit)\b|(?:^|[\\/])\.(?:git|svn|hg|docker|kube|aws|gnupg)[\\/]|%(?:systemroot|windir|systemdrive)%|(?:^|[\\/])(?:\.\w+_history|\.bash_profile|\.gitconfig|sysprep\.inf|unattend\.xml|applicationhost\.config|(?:access|error)[._]log)\b|[\\/]dev[\\/]+fd[\\/]",
    ),
    rule(
        "930140",
        "XML external entity",
        Class::Traversal,
        1,
        Form::Text,
        // `<!ENTITY xxe SYSTEM "file:///etc/passwd">`: a document that reads a file or a URL.
        r"<!entity\s+(?:%\s*)?[\w.-]+\s+(?:system|public)\b",
    ),
    rule(
        "931100",
        "Remote file inclusion by IP URL",
        Class::Traversal,
        2,
        Form::Text,
        r"^(?:ftp|https?)://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    ),
    rule(
        "931110",
        "Remote file inclusion or request forgery URL",
        Class::Traversal,
        2,
        Form::Text,
        // A URL whose query is cut off (`http://evil.example/shell.txt?`, `…%00`), a host
        // written as a number or IPv6 literal (`http://2130706433/`, `http://[::1]/`), a
        // protocol-relative URL or a UNC path to a named host, a URL given to a parameter
        // that names a file (`?page=http://…`), a URL scheme for other protocols, a `data:`
        // URL of text.
        r"^(?:ftp|https?)://[^\s?#]+(?:\?+|\x00)$|^(?:ftp|https?)://(?:\[|0x|\d+(?:[/:]|$)|0+\.)|^//[\w-]+(?:\.[\w-]+)+/|^\\\\[\w-]+(?:\.[\w-]+)+\\|\b(?:page|file|include|inc|path|template|document|folder|pg|pdf|dir|lang)=(?:https?|ftps?)://|^(?:ldap|tftp|sftp|smb|jar|netdoc)://|^data:(?:text/plain|application/x-(?:httpd-)?php)\b",
    ),
];
