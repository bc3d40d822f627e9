//! The compiled detectors and the scan of a request's values.

use std::collections::HashSet;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::rules::{self, Class, Context, Form, PatternRule, Prose, Severity};
use crate::sqli::SqliDetector;
use crate::targets::{Location, Target};

/// A rule that matched, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The rule id, e.g. `942100`, `ip-deny` or a custom rule's id.
    pub(crate) id: String,
    /// What the rule detects, e.g. `SQLi tautology`.
    pub(crate) name: &'static str,
    /// The anomaly score the match adds ([`Severity::score`]).
    pub(crate) score: u32,
    /// The location label (names only, no values), e.g. `query:id`.
    pub(crate) location: String,
}

/// The rule sets of one normalised form.
struct FormSet {
    form: Form,
    set: RegexSet,
    rules: Vec<&'static PatternRule>,
    /// For each rule, the regex that locates its matches when they must be outside prose
    /// ([`Context::Code`] at paranoia 1); `None`: any match counts.
    locators: Vec<Option<Regex>>,
}

impl FormSet {
    /// Whether rule `index`, which the set matched in `text`, counts; `nul`: whether the raw
    /// value held a NUL byte (a value with one is never prose).
    fn counts(&self, index: usize, text: &str, nul: bool) -> bool {
        let Some(locator) = &self.locators[index] else {
            return true;
        };
        let prose = Prose::new(text, nul);
        locator
            .find_iter(text.as_bytes())
            .any(|m| !prose.is_mention(m.start(), m.end()))
    }
}

/// Every built-in detector, compiled once at `init` for the configured paranoia level, classes
/// and disabled rules.
pub(crate) struct Detector {
    sqli: Option<SqliDetector>,
    forms: Vec<FormSet>,
    sqli_disabled: HashSet<String>,
}

impl Detector {
    /// Compiles the rules active at `paranoia` for `classes`, without the `disabled` ones:
    /// one [`RegexSet`] per normalised form, plus a locator regex for each rule whose prose
    /// mentions do not count at paranoia 1.
    pub(crate) fn new(paranoia: u8, classes: &[Class], disabled: &HashSet<String>) -> Self {
        let mut forms = Vec::new();
        for form in [Form::Text, Form::Compact, Form::Cmdline] {
            let rules: Vec<&'static PatternRule> = rules::all()
                .filter(|rule| {
                    rule.form == form
                        && rule.paranoia <= paranoia
                        && classes.contains(&rule.class)
                        && !disabled.contains(rule.id)
                })
                .collect();
            if rules.is_empty() {
                continue;
            }
            // Values are lower-cased and the rules are ASCII: byte-oriented, ASCII-only
            // classes keep every rule on the fast DFA engines.
            let set = RegexSetBuilder::new(rules.iter().map(|rule| rule.pattern))
                .unicode(false)
                .build()
                .expect("built-in rules are valid regexes");
            let locators = rules
                .iter()
                .map(|rule| {
                    (rule.context == Context::Code && paranoia < 2).then(|| {
                        RegexBuilder::new(rule.pattern)
                            .unicode(false)
                            .build()
                            .expect("built-in rules are valid regexes")
                    })
                })
                .collect();
            forms.push(FormSet {
                form,
                set,
                rules,
                locators,
            });
        }
        Detector {
            sqli: classes
                .contains(&Class::Sqli)
                .then(|| SqliDetector::new(paranoia)),
            forms,
            sqli_disabled: disabled.clone(),
        }
    }

    /// Scans the inspected targets; one hit per rule and location.
    pub(crate) fn scan(&self, targets: &[Target], hits: &mut Vec<Hit>) {
        let mut fingerprints = Vec::new();
        for target in targets.iter().filter(|t| t.inspect && !t.value.is_empty()) {
            let normalized = target.normalized();
            let mut add = |id: &str, name: &'static str, severity: Severity| {
                let location = target.location.to_string();
                if !hits.iter().any(|h| h.id == id && h.location == location) {
                    hits.push(Hit {
                        id: id.to_owned(),
                        name,
                        score: severity.score(),
                        location,
                    });
                }
            };
            if let Some(sqli) = &self.sqli {
                fingerprints.clear();
                if target.location == Location::Body {
                    // A raw body holds many values: each line and `&`-separated part starts
                    // a fragment of its own.
                    for segment in normalized.text.split(['\n', '&']) {
                        sqli.detect(segment.trim(), &mut fingerprints);
                    }
                } else {
                    sqli.detect(&normalized.text, &mut fingerprints);
                }
                for fingerprint in &fingerprints {
                    if !self.sqli_disabled.contains(fingerprint.id) {
                        add(fingerprint.id, fingerprint.name, fingerprint.severity);
                    }
                }
            }
            for form_set in &self.forms {
                let text = match form_set.form {
                    Form::Text => normalized.text.as_str(),
                    Form::Compact => normalized.compact(),
                    Form::Cmdline => normalized.cmdline(),
                };
                if form_set.set.is_match(text.as_bytes()) {
                    for index in form_set.set.matches(text.as_bytes()).iter() {
                        if form_set.counts(index, text, normalized.nul) {
                            let rule = form_set.rules[index];
                            add(rule.id, rule.name, rule.severity);
                        }
                    }
                }
            }
        }
    }
}
