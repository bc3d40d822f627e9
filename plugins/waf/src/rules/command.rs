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
        r"(?:whoami|uname|ifconfig|ipconfig|nslookup|netstat|getent|traceroute|tracert|wget|ncat|netcat|socat|telnet|ssh|scp|sftp|tftp|nmap|tcpdump|zsh|ksh|csh|tcsh|busybox|nodejs|powershell|pwsh|cmd|cmd\.exe|certutil|wmic|bitsadmin|rundll32|regsvr32|mshta|cscript|wscript|systeminfo|tasklist|taskkill|schtasks|icacls|chmod|chown|chgrp|crontab|mkfifo|nohup|sudo|xxd|base64|printenv|useradd|usermod|passwd|hostname|ls|pwd|uptime|lsof|pkill|killall|dmesg|gcc|tac|xargs|awk|gawk|sed|grep|egrep|fgrep|uniq|chattr|ifup|arp|route|whoami\.exe|net\.exe|nc\.exe|openssl|whois|whereis|lsb_release|getfacl|hexdump|iptables|jjs|netsh|nbtstat|nltest|vssadmin|wevtutil|bcdedit|msiexec|forfiles|findstr|cacls|qwinsta|quser|pathping|net1)"
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

/// Tools that also name what people write about (`docker`, `mysql`, `ip addr`): after a
/// separator they count from paranoia 2, whatever follows.
macro_rules! tools {
    () => {
        r"(?:echo|rsync|sqlite3|kubectl|systemctl|journalctl|docker|mysql|psql|gdb|poweroff|gzip|gunzip|unzip|bzip2|zcat|jshell|lsblk|lscpu|lsmod|modprobe|umount|useradd|chpasswd|visudo|nmcli|calc\.exe|notepad\.exe|ip\s+(?:a|addr|address|r|route|link|neigh)|query\s+(?:user|session|process))"
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
    rule(
        "932107",
        "Tool or English-word command after a shell separator",
        Class::Command,
        2,
        Form::Cmdline,
        concat!(
            separator!(),
            tools!(),
            r"(?:$|[\s;|&`)<>])|",
            separator!(),
            // English words that are also commands: with an option or alone (`; date`,
            // `; nice -n 19 id`), or with the argument that makes them a command
            // (`; which python`, `; npm install evil`, `& start calc`, `; eval id`).
            r"(?:(?:which|nice|service|sc|start|history|groups|users|date|wall|ss|java|mount|locate|finger|logger|calc|notepad|attrib|timeout|ver|vol|reboot|shutdown|nano|vim?|ftp)(?:\s*$|\s+[-/])",
            r"|(?:which|whereis|locate|finger|logger|wall)\s+[\w./+-]+\s*$",
            r"|(?:apt-get|apt|yum|dnf|apk|pip3?|npm|gem)\s+(?:install|add|i)\b",
            r"|timeout\s+\d|attrib\s+[+-]|start\s+(?:[\w-]+\.exe|calc|cmd|powershell|notepad)\b",
            r"|(?:eval|exec)\s+[\w$'\x22]|sc\s+(?:query|qc|config|create|stop|start|delete)\b)",
            // A subshell or group after a separator: `;(id)`, `;{id;}`.
            r"|[;|&\n]\s*[({]\s*(?:",
            commands!(),
            "|",
            word_commands!(),
            r")\b"
        ),
    ),
    rule(
        "932108",
        "Command as the whole value, shellshock, system file reader",
        Class::Command,
        2,
        Form::Cmdline,
        // `whoami` alone; a shellshock function definition (`() { :; }; …`); a reader of a
        // system file once quotes are gone (`cat /et'c'/pa'ss'wd`).
        r"^\s*(?:whoami|ifconfig|ipconfig|netstat|systeminfo|tasklist|printenv)\s*$|^\s*\(\s*\)\s*\{|^\s*(?:cat|tac|head|tail|more|less|nl|od|xxd)\s+(?:-\S+\s+)*/(?:etc|proc)/",
    ),
    rule(
        "932135",
        "Shell ANSI-C quoted string",
        Class::Command,
        1,
        Form::Text,
        // `$'\x69\x64'` is `id` to bash (the text form has decoded the escapes already):
        // after a separator, or with escapes left (octal).
        r"(?:^|[;|&\n`(])\s*\$'[^'\s]+'|\$'(?:\\(?:x[0-9a-f]{1,2}|[0-7]{1,3}|u[0-9a-f]{4}))+",
    ),
    rule(
        "932170",
        "Code calling the operating system",
        Class::Command,
        2,
        Form::Compact,
        // PHP, Python, Node.js and Java calls that run a command (`system('id')`,
        // `os.system(…)`, `require('child_process')`, `Runtime.getRuntime().exec(…)`), and
        // PHP openings (`<?php`, `${@…}`).
        r#"\b(?:system|passthru|shell_exec|popen|proc_open|pcntl_exec|execsync|spawnsync|execfilesync)\s*\(\s*['"`$\[]|<\?(?:php\b|=)|\$\{\s*@|\bchild_process\b|\bgetruntime\s*\(\s*\)\s*\.\s*exec\s*\(|\b__import__\s*\(\s*['"]os|\bos\s*\.\s*(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?)\s*\(|\bsubprocess\s*\.\s*(?:call|run|popen|check_output|check_call)\s*\(|\bassert\s*\(\s*['"]\s*\w+\s*\(|\beval\s*\(\s*(?:base64_decode|gzinflate|str_rot13)\s*\("#,
    ),
    rule(
        "932180",
        "Java naming lookup (Log4Shell)",
        Class::Command,
        1,
        Form::Text,
        // `${jndi:ldap://…}`, with each letter maybe spelt by a lookup (`${lower:j}`, `${::-n}`).
        r"\$\{\s*(?:j|\$\{[^{}]*j\})\s*(?:n|\$\{[^{}]*n\})\s*(?:d|\$\{[^{}]*d\})\s*(?:i|\$\{[^{}]*i\})\s*:",
    ),
    rule(
        "932190",
        "Server-side template expression",
        Class::Command,
        2,
        Form::Compact,
        // `{{7*7}}`, `${7*7}`, `#{7*7}`, `<%= 7*7 %>`, Jinja2 object walks
        // (`{{''.__class__.__mro__}}`), Spring and FreeMarker calls.
        r"\{\{[^}]*(?:__\w+__|\bconfig\.|\blipsum\b|\bcycler\b|\d+\s*[*+]\s*\d+)[^}]*\}\}|[$#]\{\s*\d+\s*[*+]\s*\d+\s*\}|<%=?\s*\d+\s*[*+]\s*\d+\s*%>|\$\{\s*t\s*\(\s*java\.|<#assign\b|freemarker\.template",
    ),
];
