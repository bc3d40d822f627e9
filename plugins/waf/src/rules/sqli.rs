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
        r#"\bunion(?:\s+(?:all|distinct|distinctrow))?\s*\(*\s*select\s*\(*\s*(?:\*|null\b|\d|@@?\w|['"]|[\w.$]+\s*\(|[\w.$]+\s*(?:,|\)|from\b|into\b|--|#|$)|(?:all|distinct|top)\s)"#,
    ),
    rule(
        "942220",
        "SQLi tautology or comparison after a logic word",
        Class::Sqli,
        2,
        Form::Compact,
        // Anywhere in the value (the fingerprints look at its start): `… x' or 'a'='a`,
        // `… 1) or 2>1`.
        // A value that opens with the logic word reads the same (`or 1=1--`); so does a
        // negated constant that ends the value (`1 or not 0`, `' or !0--`).
        r#"(?:^|['")]|\b\d+)\s*(?:or|and|xor|\|\||&&)\s+\(*\s*(?:-?\d+(?:\.\d+)?|'[^']*'|"[^"]*"|[a-z_@][\w.@$]*)\s*\)*\s*(?:=|<=>|!=|<>|[<>]=?|\b(?:r?like|regexp|glob|between|sounds\s+like|div)\b|\bis\s+(?:not\s+)?(?:null|true|false|unknown)\b|\b(?:notnull|isnull)\b)|(?:^|['")]|\b\d+)\s*(?:or|and|xor|\|\||&&)\s+(?:(?:not\s+|!\s*)\(*\s*(?:\d+|true|false)\s*\)*\s*(?:--|#|;|$)|\(*\s*(?:\d+|true|false)\s*\)*\s*(?:--|#|;)|\(*\s*(?:true|false)\s*\)*\s*$)"#,
    ),
    rule(
        "942230",
        "SQLi dialect operator",
        Class::Sqli,
        2,
        Form::Compact,
        r"<=>|\bcollate\s+[\w-]+\s*(?:or|and|=|--|#|$)|\b(?:notnull|isnull)\b\s*(?:--|#|;|$)",
    ),
    rule(
        "942240",
        "SQLi system variable",
        Class::Sqli,
        2,
        Form::Compact,
        // `@@version`, `@@datadir`, `@@global.secure_file_priv`: only SQL spells a name so.
        r"@@[a-z_][\w.]{2,}",
    ),
    rule(
        "942250",
        "SQLi subquery or conditional expression",
        Class::Sqli,
        2,
        Form::Compact,
        // `(select 1)`, `+(select user())+`, `rlike (select (case when (1=1) then 1 …`:
        // a parenthesised select with a select list, a `case when` holding a comparison;
        // `(select one)` and `in case when it rains then …` in prose pass.
        r"\(\s*select\s*(?:\*|\(|@@?\w|[+-]?\d|null\b|case\b|(?:distinct\s+|top\s+\d+\s+)?[\w.$]+\s*(?:\(|,|from\b|\|\|))|\bcase\s+when\b[^;]{0,60}?(?:[=<>]|\bis\b|\blike\b|\bnull\b)[^;]{0,60}?\bthen\b",
    ),
    rule(
        "942260",
        "SQL probe statement or constant comparison",
        Class::Sqli,
        2,
        Form::Compact,
        // A value that is a probe, not a query someone writes about: `select @@version`,
        // `select user()`, `drop table users;`, and a `where` comparing two constants
        // (`… where 1=1`). `SELECT id, name FROM users ORDER BY name` passes.
        r"^\s*\(?\s*(?:select\s+(?:@@\w+|(?:version|user|current_user|system_user|session_user|database|schema|db_name|user_name|banner)\s*(?:\(|$|;|--|#|\bfrom\b))|drop\s+(?:table|database|schema)\s+(?:if\s+exists\s+)?[\w.]+\s*(?:;|--|#|$))|\bwhere\s+-?\d+\s*(?:=|<>|!=|[<>]=?)\s*-?\d+\s*(?:$|;|--|#|\)|\b(?:and|or|limit|order|group)\b)",
    ),
    rule(
        "942270",
        "SQLi dialect cast, character code or escape",
        Class::Sqli,
        2,
        Form::Compact,
        // PostgreSQL casts (`)::int`, `1::text`), character codes joined into strings
        // (`chr(65)||chr(66)`, `char(97,100)`), ODBC escapes (`{fn user()}`), the
        // `1.e(` float trick, `sounds like`.
        r"(?:\)|\b\w+|'[^']*')\s*::\s*(?:int|int4|int8|integer|bigint|smallint|text|varchar|numeric|decimal|regclass|bytea)\b|\b(?:n?char|chr)\s*\(\s*\d+\s*(?:,\s*\d+\s*)*\)\s*(?:\|\||\+|,|\)|=|$)|\{\s*(?:fn|oj|call)\s+\w+|\b\d+\.e\s*[(,]|\bsounds\s+like\s+['\d(]",
    ),
    rule(
        "942290",
        "SQLi comment splitting a word",
        Class::Sqli,
        2,
        Form::Text,
        // `uni/**/on sel/**/ect`, for back ends that remove comments before parsing.
        r"[a-z]/\*[^*]*\*/[a-z]",
    ),
    rule(
        "942295",
        "SQLi string closed and joined to a logic word",
        Class::Sqli,
        2,
        Form::Compact,
        // `' or ''-'`, `' or ''='`: an empty string on each side of the logic word.
        r"^'\s*(?:or|and|xor|\|\||&&)\s*''\s*[-+*/=<>|&^%]",
    ),
    rule(
        "942296",
        "SQLi boolean or comparison expression as a whole value",
        Class::Sqli,
        2,
        Form::Compact,
        // Blind probes in a number context: `1 xor 1`, `1 between 1 and 1`, `1 in (1,2)`,
        // `1 is not null`; `1 or 0` passes (people write it).
        r"^\s*-?\d+\s*(?:xor\s+-?\d+|(?:between\s+-?\d+\s+and\s+-?\d+|in\s*\(\s*-?\d+(?:\s*,\s*-?\d+)*\s*\)|is\s+(?:not\s+)?null|r?like\s+-?\d+|regexp\s+\S+|div\s+-?\d+)\s*(?:$|--|#|;))",
    ),
    rule(
        "942297",
        "SQLi dynamic statement",
        Class::Sqli,
        2,
        Form::Compact,
        // `declare @q nvarchar(200) … exec(@q)`, `execute immediate 'sel' || 'ect …'`.
        r"\bdeclare\s+@\w+\s+n?(?:var)?char\b|\bexec(?:ute)?\s*\(\s*@\w+\s*\)|\bexecute\s+immediate\s+['\x22:]",
    ),
    rule(
        "942380",
        "NoSQL operator or JavaScript query",
        Class::Sqli,
        2,
        Form::Compact,
        // MongoDB operators in a bracketed or JSON key (`[$ne]=1`, `{"$gt":""}`), and a
        // `$where` script closed early (`'; return true; var x='`).
        r#"\[\s*\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor|expr)\s*\]|\{\s*['"]?\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor|expr)['"]?\s*:|['"]\s*;\s*return\s+(?:true|1)\b|\bthis\s*\.\s*\w+\s*\.\s*match\s*\("#,
    ),
];
