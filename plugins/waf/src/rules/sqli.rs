//! SQL injection patterns (CRS 942) for what the fingerprints of [`crate::sqli`] do not see:
//! payloads that do not start the value, or whose shape is a plain expression, but whose
//! words only SQL uses — time-based probes, stacked and procedural statements, system catalogs,
//! file writes, MySQL versioned comments, `union select` games, dialect operators.
//!
//! They read the `compact` form (comments removed, whitespace collapsed), but for the
//! versioned comments, which `compact` would remove.

use super::{Class, Form, PatternRule, rule};

/// The SQL injection pattern rules.
pub(super) const RULES: &[PatternRule] = &[
    rule(
        "942140",
        "SQLi system catalog look-up",
        Class::Sqli,
        1,
        Form::Compact,
        // A catalog named the way a query names it: `information_schema.tables`,
        // `from mysql.user`; prose that mentions `information_schema` passes.
        r"\binformation_schema\s*\.\s*[a-z]|\b(?:from|join)\s+(?:information_schema|mysql\s*\.\s*(?:user|db)|pg_(?:catalog|shadow|user|tables|database)|sys\.?(?:objects|columns|databases|tables|logins)|master\s*\.\s*\.?\s*sys\w*|all_tables|all_users|user_tables|dba_users|sqlite_(?:master|schema)|msysobjects|v\$version|dual)\b",
    ),
    rule(
        "942145",
        "SQLi system catalog name",
        Class::Sqli,
        2,
        Form::Compact,
        r"\b(?:information_schema|sqlite_master|pg_shadow|msysobjects|sysobjects|syscolumns)\b",
    ),
    rule(
        "942150",
        "SQLi time-based probe",
        Class::Sqli,
        1,
        Form::Compact,
        // `sleep(5)`, `benchmark(1000000,md5(1))`, `pg_sleep(5)`, `waitfor delay '0:0:5'`;
        // `sleep(8 hours)` in prose passes.
        r#"\b(?:sleep|pg_sleep|dbms_lock\s*\.\s*sleep)\s*\(\s*[(\s]*-?\d+(?:\.\d+)?\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+(?:delay|time)\s+['"]?\s*\d|\bdbms_pipe\s*\.\s*receive_message\s*\(|\brandomblob\s*\(\s*\d{5,}"#,
    ),
    rule(
        "942160",
        "SQLi stacked or procedural statement",
        Class::Sqli,
        1,
        Form::Compact,
        // After a `;`, a statement with the arguments a statement takes: `; drop table`,
        // `; exec xp_cmdshell`, `; print @@version`, `; declare @q`, `; shutdown --`.
        r#";\s*(?:(?:exec|execute)\s*(?:\(|\s(?:master\s*\.|\w+\s*\.\s*\.?\s*)?(?:xp_|sp_)|\s+@|\s+['"])|declare\s+@|print\s*(?:@@?\w|['"\d(])|(?:drop|truncate|alter|create)\s+(?:table|database|procedure|function|user|login|view|index|schema|trigger)\b|insert\s+into\b|update\s+\w+\s+set\b|delete\s+from\b|select\s+(?:\*|@@?\w|\d|null\b|[\w.]+\s*\(|[\w.]+\s*,|[\w.]+\s+from\b)|shutdown\s*(?:$|--|#|;|with\b)|waitfor\s|if\s*\(?\s*\d|set\s+@)"#,
    ),
    rule(
        "942165",
        "SQLi extended stored procedure",
        Class::Sqli,
        1,
        Form::Compact,
        r"\b(?:xp_cmdshell|xp_dirtree|xp_fileexist|xp_regread|xp_servicecontrol|sp_oacreate|sp_configure|sp_executesql|sp_makewebtask|sp_addsrvrolemember|sp_password)\b",
    ),
    rule(
        "942170",
        "SQLi MySQL versioned comment",
        Class::Sqli,
        1,
        Form::Text,
        r"/\*!\d*\s*(?:union|select|and|or|xor|not|from|where|insert|update|delete|drop|sleep|benchmark|concat|having|order|limit|\d+\s*[/=,*+-]|\()",
    ),
    rule(
        "942180",
        "SQLi file write or read",
        Class::Sqli,
        1,
        Form::Compact,
        r#"\binto\s+(?:outfile|dumpfile)\s*['"]|\bload_file\s*\(|\bload\s+data\s+(?:local\s+)?infile\b|\bpg_read_file\s*\(|\bcopy\s+\w+\s+(?:from|to)\s+program\b|\butl_(?:file|http|inaddr)\s*\.\s*\w+\s*\(|\bctxsys\s*\.\s*drithsx\s*\.\s*sn\s*\("#,
    ),
    rule(
        "942190",
        "SQLi union select",
        Class::Sqli,
        1,
        Form::Compact,
        // `union select` with the column list a query has: `union all select null,1`,
        // `union(select 1)`; `the union select committee meeting` passes.
        r#"\bunion(?:\s+(?:all|distinct))?\s*\(*\s*select\s*\(*\s*(?:\*|null\b|\d|@@?\w|['"]|[\w.$]+\s*\(|[\w.$]+\s*(?:,|\)|from\b|into\b|--|#|$)|(?:all|distinct|top)\s)"#,
    ),
    rule(
        "942220",
        "SQLi tautology or comparison after a logic word",
        Class::Sqli,
        2,
        Form::Compact,
        // Anywhere in the value (the fingerprints look at its start): `… x' or 'a'='a`,
        // `… 1) or 2>1`.
        r#"(?:['")]|\b\d+)\s*(?:or|and|xor|\|\||&&)\s+\(*\s*(?:-?\d+(?:\.\d+)?|'[^']*'|"[^"]*"|[a-z_@][\w.@$]*)\s*\)*\s*(?:=|<=>|!=|<>|[<>]=?|\b(?:r?like|regexp|glob|between)\b|\bis\s+(?:not\s+)?null\b|\b(?:notnull|isnull)\b)"#,
    ),
    rule(
        "942230",
        "SQLi dialect operator",
        Class::Sqli,
        2,
        Form::Compact,
        r"<=>|\bcollate\s+[\w-]+\s*(?:or|and|=|--|#|$)|\b(?:notnull|isnull)\b\s*(?:--|#|;|$)",
    ),
];
