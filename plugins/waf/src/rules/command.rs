//! OS command injection (CRS 932): Unix and Windows commands after shell separators and in
//! substitutions, quoting and variable evasion, interpreters running inline code, reverse
//! shells.
//!
//! Most rules read the `cmdline` form, where quotes, backslashes and carets are gone and empty
//! expansions (`$@`, `$()`) and `$IFS` are resolved, so `c''at`, `c\at`, `who$@ami` and
//! `cat${IFS}/etc/passwd` reach them as `cat`, `whoami` and `cat /etc/passwd`.

use super::{Class, Context, Form, PatternRule, rule, rule_in};

/// Commands that are not English words: after a separator they are an injection whatever
/// follows.
macro_rules! commands {
    () => {
        r"(?:whoami|uname|ifconfig|ipconfig|nslookup|netstat|getent|traceroute|tracert|wget|ncat|netcat|socat|telnet|ssh|scp|sftp|tftp|nmap|tcpdump|zsh|ksh|csh|tcsh|busybox|nodejs|powershell|pwsh|cmd|cmd\.exe|certutil|wmic|bitsadmin|rundll32|regsvr32|mshta|cscript|wscript|systeminfo|tasklist|taskkill|schtasks|icacls|chmod|chown|chgrp|crontab|mkfifo|nohup|sudo|xxd|base64|printenv|useradd|usermod|passwd|hostname|ls|pwd|uptime|lsof|pkill|killall|dmesg|gcc|tac|xargs|awk|gawk|sed|grep|egrep|fgrep|uniq|chattr|ifup|arp|route|whoami\.exe|net\.exe|nc\.exe)"
    };
}

/// Shells, interpreters and `rm`: after a separator they are an injection whatever follows
/// (`; rm database`, `| bash payload`), even though they also name things people list.
macro_rules! shells {
    () => {
        r"(?:sh|bash|dash|rm|python[23]?|perl|ruby|php|node|lua)"
    };
}

/// Commands that are also English words (`cat`, `ping`, `host`, `type`): after a separator
/// they count only with a command-like tail.
macro_rules! word_commands {
    () => {
        r"(?:cat|id|ps|sh|bash|dash|cc|tr|nl|od|w|dd|wc|rev|tee|cut|sort|tar|zip|rm|cp|mv|ln|find|head|tail|more|less|type|dir|set|echo|printf|kill|sleep|ping|host|dig|net|who|last|env|time|start|call|copy|move|del|exec|eval|source|export|unset|alias|python[23]?|perl|ruby|php|lua|node|curl|nc|touch|mkdir|expr|read|file|stat|reg|sc|at)"
    };
}

/// A command-like argument after a word command: an option (`-la`, `+short`, `/all`), a
/// path, a number, a URL or domain, a variable, a redirection, or a word piped on.
macro_rules! arguments {
    () => {
        r"\s+(?:-|\+|/|\.|~|\$|\\|\d|[<>]|https?:|[a-z]:|[a-z0-9_-]+\.[a-z]{2,}\b|\w+\s*[|&>])"
    };
}

/// What may follow a word command: [`arguments`], or the end of the command.
macro_rules! command_tail {
    () => {
        concat!("(?:", arguments!(), r"|\s*(?:$|[;|&`)<>{}]))")
    };
}

/// A shell separator or the start of a command substitution (`${…}` expands a variable, it
/// does not run a command).
macro_rules! separator {
    () => {
        r"(?:[;|&\n]|\$\()\s*(?:/(?:usr/)?(?:local/)?s?bin/)?"
    };
}

/// Interpreters that run code given on the command line.
macro_rules! interpreters {
    () => {
        r"(?:python[23]?(?:\.\d+)?|perl|ruby|php|node(?:js)?|lua|tclsh|deno|osascript|jrunscript)"
    };
}

/// The command injection rules.
pub(super) const RULES: &[PatternRule] = &[
    rule_in(
        Context::InlineCode,
        "932100",
        "Command after a shell separator",
        Class::Command,
        1,
        Form::Cmdline,
        // A pipe straight into a word command (`|id root`, `|cat notes`) is a command
        // whatever follows: prose puts spaces around a pipe (`cat | dog`).
        concat!(
            separator!(),
            word_commands!(),
            command_tail!(),
            r"|\|",
            word_commands!(),
            r"(?:$|\s)"
        ),
    ),
    rule_in(
        Context::InlineCode,
        "932105",
        "Unix or Windows command after a shell separator",
        Class::Command,
        1,
        Form::Cmdline,
        concat!(
            separator!(),
            "(?:",
            commands!(),
            "|",
            shells!(),
            r")(?:\.exe)?(?:$|[\s;|&`)<>{}(])"
        ),
    ),
    rule(
        "932106",
        "Command with options at the start of a value",
        Class::Command,
        2,
        Form::Cmdline,
        concat!(r"^\s*", commands!(), r"\s+[-/+]"),
    ),
    // Never exempt in prose: a substitution runs whatever text surrounds it.
    rule(
        "932110",
        "Command substitution",
        Class::Command,
        1,
        Form::Cmdline,
        concat!(
            r"\$\(\s*(?:/(?:usr/)?(?:s?bin)/)?(?:",
            commands!(),
            "|",
            word_commands!(),
            r")\b"
        ),
    ),
    // Exempt at paranoia 1 as Markdown inline code in a sentence (`` type `id` to see your
    // groups ``), see `named`.
    rule_in(
        Context::InlineCode,
        "932115",
        "Command substitution in backticks",
        Class::Command,
        1,
        Form::Cmdline,
        concat!(
            // In backticks, a word command needs arguments: `` `id` `` and `` `whoami` ``
            // count, `` `type` `` and `` `set` `` in docs do not.
            r"`\s*(?:/(?:usr/)?(?:s?bin)/)?(?:(?:",
            commands!(),
            r"|id)\s*(?:`|\s)|",
            word_commands!(),
            arguments!(),
            ")",
        ),
    ),
    rule(
        "932120",
        "Shell evasion or reverse shell",
        Class::Command,
        1,
        Form::Cmdline,
        r"\$\{?ifs\}?|/dev/(?:tcp|udp)/|\bbash\s+-i\b|\bnc(?:at)?\s+(?:-\w+\s+)*-e\s|\b(?:cmd(?:\.exe)?\s*/[ck]|powershell(?:\.exe)?\s+-(?:e|enc|encodedcommand|c|command|nop|w)\b)|\bmkfifo\s+/tmp/|\bnet\s+(?:user|localgroup|share|use|view)(?:\s*(?:$|[;|&`)])|\s+(?:[^\s/\\]+\s+){0,3}(?:/[a-z]|\\\\))|\bxterm\s+-display\b|\bsocat\b[^;|]*\bexec:",
    ),
    rule(
        "932122",
        "Brace expansion running a command",
        Class::Command,
        1,
        Form::Cmdline,
        // `{cat,/etc/passwd}`; `use std::{fmt, io}` and `{ argv, env }` pass.
        concat!(
            r"\{(?:/\w+)*/?(?:",
            commands!(),
            "|",
            word_commands!(),
            r"),[^}]*\}"
        ),
    ),
    rule(
        "932125",
        "Shell parameter expansion or redirection trick",
        Class::Command,
        1,
        Form::Cmdline,
        // `${PATH:0:1}` (substring), `${x//a/b}` (substitution), `$HOME/x` or `${X}/x` run as
        // a command, `<<<` here-strings, input read from a system path.
        r#"\$\{[a-z_]\w*(?::-?\d+(?::\d+)?|//?[^}]*/|[#%^,~]{1,2}[^}]*)\}|[;|&\n]\s*\$\{?[a-z_]\w*\}?/|(?:^|[^<])<<<\s*[\w$'"(]|(?:^|[;|&\n]|\w)\s*<\s*/(?:etc|proc|dev|var|home|root)/"#,
    ),
    rule(
        "932130",
        "Absolute path to a shell binary",
        Class::Command,
        2,
        Form::Cmdline,
        r"(?:^|[\s;|&])/(?:usr/)?(?:s?bin)/[a-z]+",
    ),
    rule(
        "932140",
        "Wildcards standing for a system path",
        Class::Command,
        1,
        Form::Cmdline,
        // `/???/??t`, `/bin/c?t /etc/pa??wd`: a glob where a system directory or command
        // should be.
        r"(?:^|[\s;|&<>`(])/(?:[?*]+|[a-z]+[?*]+[a-z?*]*|[?*]+[a-z]+[a-z?*]*|bin|sbin|usr|etc|dev|tmp|proc)/[\w./]*[?*]",
    ),
    rule(
        "932150",
        "Interpreter running inline code",
        Class::Command,
        1,
        Form::Text,
        concat!(
            r"(?:^|[;|&\n`(]\s*)",
            interpreters!(),
            // The inline code reads as code: quoted, or with code punctuation (`python -c flag
            // usage` passes).
            r#"\s+(?:-\w+\s+)*-[a-z]*[ecr]\s+(?:['"`$]|[^\s'"]*[(;=.$/\\])|\b"#,
            interpreters!(),
            r#"\s+(?:-\w+\s+)*-[a-z]*[ecr]\s*['"]|\bg?awk\s+['"]?\s*begin\s*\{"#
        ),
    ),
    rule(
        "932160",
        "Windows command or PowerShell cmdlet",
        Class::Command,
        1,
        Form::Cmdline,
        r"\bcertutil(?:\.exe)?\s+-(?:urlcache|decode|encode|f)\b|\bbitsadmin(?:\.exe)?\s+/transfer|\breg(?:\.exe)?\s+(?:query|add|delete|save|export)\s+hk|\bwmic(?:\.exe)?\s+[a-z]|\b(?:mshta|rundll32|regsvr32)(?:\.exe)?\s|\bschtasks(?:\.exe)?\s+/|\biex\s*\(|\binvoke-(?:expression|webrequest|restmethod)\b|\bdownload(?:string|file)\s*\(|\bnew-object\s+(?:system\.)?net\.webclient|\b(?:whoami|ipconfig)(?:\.exe)?\s+/[a-z]",
    ),
];
