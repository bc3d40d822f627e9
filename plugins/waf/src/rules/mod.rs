//! The built-in pattern rules, modelled on the OWASP Core Rule Set families and numbered like
//! them: [`sqli`] (942, what the tokenizer of [`crate::sqli`] does not see), [`xss`] (941),
//! [`traversal`] (930 LFI, 931 RFI), [`command`] (932 RCE) and [`protocol`] (921).
//!
//! Every rule names the normalised form it reads ([`Form`]), the lowest paranoia level at which
//! it is active and whether a match inside prose counts ([`Context`]). All the rules of one form
//! are compiled into one [`regex::RegexSet`] at `init`, so a value is scanned once per form
//! whatever the number of rules.

mod command;
pub(crate) mod named;
mod prose;
mod protocol;
mod sqli;
mod traversal;
mod xss;

use std::fmt;

pub(crate) use named::{is_bare_script_tag, is_inline_code};
pub(crate) use prose::Prose;

/// How bad a match is; in anomaly mode a rule adds its severity's score (CRS values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// 5 points.
    Critical,
    /// 3 points.
    Warning,
}

impl Severity {
    /// The severity of a rule active from `paranoia`: rules of paranoia 1 and 2 score as
    /// critical (one match blocks at the default threshold); rules of paranoia 3 and 4 are
    /// broad, score as warnings and block only together. Pattern rules and SQLi fingerprints
    /// both use it.
    pub(crate) const fn for_paranoia(paranoia: u8) -> Severity {
        if paranoia <= 2 {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    /// The anomaly score a match adds: 5 for critical, 3 for a warning.
    pub(crate) fn score(self) -> u32 {
        match self {
            Severity::Critical => 5,
            Severity::Warning => 3,
        }
    }
}

/// The attack class of a rule, as configured in `classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// SQL injection (`sqli`): the tokenizer's fingerprints and the 942 rules.
    Sqli,
    /// Cross-site scripting (`xss`): the 941 rules.
    Xss,
    /// Path traversal and file inclusion (`traversal`): the 930 and 931 rules.
    Traversal,
    /// OS command injection (`command`): the 932 rules.
    Command,
    /// Protocol abuse (`protocol`): the 921 rules and the checks of [`crate::protocol`].
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
    /// The CRS-style rule id, e.g. `941110`; what `disabled_rules` and the logs name.
    pub(crate) id: &'static str,
    /// What the rule detects, e.g. `XSS script tag`.
    pub(crate) name: &'static str,
    /// The attack class, as configured in `classes`.
    pub(crate) class: Class,
    /// The lowest paranoia level at which the rule is active (1 to 4).
    pub(crate) paranoia: u8,
    /// How much a match scores, from the paranoia level ([`Severity::for_paranoia`]).
    pub(crate) severity: Severity,
    /// The normalised form the pattern reads.
    pub(crate) form: Form,
    /// Whether a mention in prose counts at paranoia 1.
    pub(crate) context: Context,
    /// The regex, over ASCII lower-case text.
    pub(crate) pattern: &'static str,
}

/// Where a match counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// Anywhere in the value.
    Anywhere,
    /// Not as a mention in prose at paranoia 1: a single bare word in a sentence of mostly
    /// plain words (`add the host to /etc/hosts and restart`), see [`Prose`]. From paranoia
    /// 2 on, every match counts.
    Code,
    /// Not inside one Markdown backtick span standing in a sentence at paranoia 1 (`` type
    /// `id` to see your groups ``), see [`is_inline_code`].
    InlineCode,
    /// Not as a bare `<script>` tag followed by words at paranoia 1 (`the <script> tag loads
    /// JavaScript`), see [`is_bare_script_tag`].
    BareScriptTag,
    /// Not as a mention in prose at any paranoia level, as [`Context::Code`] reads it: for the
    /// broad rules of paranoia 2 that name what people write about (`the site lives in
    /// /var/www/html`, `win.ini is a legacy config file`).
    Mention,
}

impl Context {
    /// Whether some matches of a rule in this context do not count at `paranoia`, so that
    /// its matches must be located and read.
    pub(crate) fn exempts_at(self, paranoia: u8) -> bool {
        match self {
            Context::Anywhere => false,
            Context::Mention => true,
            Context::Code | Context::InlineCode | Context::BareScriptTag => paranoia < 2,
        }
    }
}

const fn rule(
    id: &'static str,
    name: &'static str,
    class: Class,
    paranoia: u8,
    form: Form,
    pattern: &'static str,
) -> PatternRule {
    PatternRule {
        id,
        name,
        class,
        paranoia,
        severity: Severity::for_paranoia(paranoia),
        form,
        context: Context::Anywhere,
        pattern,
    }
}

/// A rule whose matches inside prose do not count at paranoia 1 ([`Context::Code`]).
const fn code_rule(
    id: &'static str,
    name: &'static str,
    class: Class,
    paranoia: u8,
    form: Form,
    pattern: &'static str,
) -> PatternRule {
    PatternRule {
        context: Context::Code,
        ..rule(id, name, class, paranoia, form, pattern)
    }
}

/// A rule whose matches count but where `context` says they do not.
const fn rule_in(
    context: Context,
    id: &'static str,
    name: &'static str,
    class: Class,
    paranoia: u8,
    form: Form,
    pattern: &'static str,
) -> PatternRule {
    PatternRule {
        context,
        ..rule(id, name, class, paranoia, form, pattern)
    }
}

/// Every family of built-in pattern rules.
const FAMILIES: [&[PatternRule]; 5] = [
    sqli::RULES,
    xss::RULES,
    traversal::RULES,
    command::RULES,
    protocol::RULES,
];

/// Every built-in pattern rule.
pub(crate) fn all() -> impl Iterator<Item = &'static PatternRule> {
    FAMILIES.into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn every_rule_compiles_and_ids_are_unique() {
        let rules: Vec<&PatternRule> = all().collect();
        for (index, rule) in rules.iter().enumerate() {
            Regex::new(rule.pattern).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            assert!(
                rules[..index].iter().all(|other| other.id != rule.id)
                    && crate::sqli::FINGERPRINTS.iter().all(|f| f.id != rule.id),
                "{}",
                rule.id
            );
        }
    }
}
