//! The compiled detectors and the scan of a request's values.

use std::collections::HashSet;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::rules::{self, Class, Context, Form, PatternRule, Prose, Severity};
use crate::sqli::SqliDetector;
use crate::targets::{Location, Target};

/// Every normalised form, in the order their rules are checked.
const FORMS: [Form; 3] = [Form::Text, Form::Compact, Form::Cmdline];

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
    /// For each rule, the regex that locates its matches when some do not count
    /// ([`Context::exempts_at`]); `None`: any match counts.
    locators: Vec<Option<Regex>>,
}

impl FormSet {
    /// Whether rule `index`, which the set matched in `text`, counts; `nul`: whether the raw
    /// value held a NUL byte (a value with one is never prose).
    fn counts(&self, index: usize, text: &str, nul: bool) -> bool {
        let Some(locator) = &self.locators[index] else {
            return true;
        };
        let mut matches = locator.find_iter(text.as_bytes());
        match self.rules[index].context {
            Context::Anywhere => true,
            Context::Code | Context::Mention => {
                let prose = Prose::new(text, nul);
                matches.any(|m| !prose.is_mention(m.start(), m.end()))
            }
            Context::InlineCode => {
                nul || matches.any(|m| !rules::is_inline_code(text, m.start(), m.end()))
            }
            Context::BareScriptTag => {
                nul || matches.any(|m| !rules::is_bare_script_tag(text, m.start(), m.end()))
            }
        }
    }
}

/// Whether no built-in rule of paranoia 1 can match `value` as received: it is empty, or a
/// single run of ASCII letters and digits (`page`, `2`, `dune`). No decoder changes such a
/// value (it holds no `%`, `&`, `\\` or `+`), it reads as one SQL word or number (no
/// fingerprint is one token), and every pattern of paranoia 1 needs punctuation or a second
/// word. Most query names, many values and ids take this exit before being normalised. From
/// paranoia 2, 942145 names catalogs in one word (`sysobjects`): every value is scanned.
fn is_inert(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The rules of several forms in one set, for a value whose forms are the same text: one scan
/// instead of one per form.
struct MergedSet {
    set: RegexSet,
    /// For each pattern of `set`: the index of its [`FormSet`] and of the rule in it.
    members: Vec<(usize, usize)>,
}

impl MergedSet {
    /// Merges the form sets whose indices are the bits of `mask`, in index order.
    fn new(forms: &[FormSet], mask: usize) -> Self {
        let mut patterns = Vec::new();
        let mut members = Vec::new();
        for (form_index, form_set) in forms.iter().enumerate() {
            if mask & 1 << form_index == 0 {
                continue;
            }
            for (rule_index, rule) in form_set.rules.iter().enumerate() {
                patterns.push(rule.pattern);
                members.push((form_index, rule_index));
            }
        }
        let set = RegexSetBuilder::new(patterns)
            .unicode(false)
            .build()
            .expect("built-in rules are valid regexes");
        MergedSet { set, members }
    }
}

/// Whether the forms of `mask` get a [`MergedSet`]: when there are two or more, but for `text`
/// and `cmdline` without `compact`, which takes a `/* */` comment in a value free of shell
/// quoting and odd whitespace, too rare to pay for a set at `init`.
fn worth_merging(forms: &[FormSet], mask: usize) -> bool {
    let members: Vec<Form> = (0..forms.len())
        .filter(|&index| mask & 1 << index != 0)
        .map(|index| forms[index].form)
        .collect();
    members.len() >= 2 && members != [Form::Text, Form::Cmdline]
}

/// Every built-in detector, compiled once at `init` for the configured paranoia level, classes
/// and disabled rules.
pub(crate) struct Detector {
    sqli: Option<SqliDetector>,
    forms: Vec<FormSet>,
    /// Indexed by a bit mask of `forms` indices: the merged set of the forms (`None`: each
    /// form's set is used), see [`worth_merging`].
    merged: Vec<Option<MergedSet>>,
    sqli_disabled: HashSet<String>,
    /// Whether [`is_inert`] values skip the scan (paranoia 1).
    skip_inert: bool,
}

impl Detector {
    /// Compiles the rules active at `paranoia` for `classes`, without the `disabled` ones:
    /// one [`RegexSet`] per normalised form, plus a locator regex for each rule whose prose
    /// mentions or inline code do not count ([`Context::exempts_at`]).
    pub(crate) fn new(paranoia: u8, classes: &[Class], disabled: &HashSet<String>) -> Self {
        let mut forms = Vec::new();
        for form in FORMS {
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
                    rule.context.exempts_at(paranoia).then(|| {
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
        let merged = (0..1usize << forms.len())
            .map(|mask| worth_merging(&forms, mask).then(|| MergedSet::new(&forms, mask)))
            .collect();
        Detector {
            sqli: classes
                .contains(&Class::Sqli)
                .then(|| SqliDetector::new(paranoia)),
            forms,
            merged,
            sqli_disabled: disabled.clone(),
            skip_inert: paranoia < 2,
        }
    }

    /// Scans the inspected targets; one hit per rule and location.
    pub(crate) fn scan(&self, targets: &[Target], hits: &mut Vec<Hit>) {
        if self.sqli.is_none() && self.forms.is_empty() {
            // Nothing to match: no value needs normalising.
            return;
        }
        let mut fingerprints = Vec::new();
        let mut matched = Vec::new();
        for target in targets
            .iter()
            .filter(|t| t.inspect && !t.value.is_empty())
            .filter(|t| !(self.skip_inert && is_inert(&t.value)))
        {
            self.scan_one(target, &mut fingerprints, &mut matched, hits);
        }
    }

    /// Scans one value; `fingerprints` and `matched` are scratch space reused across values.
    fn scan_one(
        &self,
        target: &Target,
        fingerprints: &mut Vec<&'static crate::sqli::Fingerprint>,
        matched: &mut Vec<(usize, usize)>,
        hits: &mut Vec<Hit>,
    ) {
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
                    sqli.detect(segment.trim(), fingerprints);
                }
            } else {
                sqli.detect(&normalized.text, fingerprints);
            }
            for fingerprint in fingerprints.iter() {
                if !self.sqli_disabled.contains(fingerprint.id) {
                    add(fingerprint.id, fingerprint.name, fingerprint.severity);
                }
            }
        }
        let mut texts = [""; FORMS.len()];
        for (text, form_set) in texts.iter_mut().zip(&self.forms) {
            *text = match form_set.form {
                Form::Text => normalized.text.as_str(),
                Form::Compact => normalized.compact(),
                Form::Cmdline => normalized.cmdline(),
            };
        }
        matched.clear();
        self.match_forms(&texts[..self.forms.len()], matched);
        for &(form_index, index) in matched.iter() {
            let form_set = &self.forms[form_index];
            if form_set.counts(index, texts[form_index], normalized.nul) {
                let rule = form_set.rules[index];
                add(rule.id, rule.name, rule.severity);
            }
        }
    }

    /// The rules (form index, rule index) whose pattern matches the text of its form, in form
    /// then rule order. `texts` holds each form's text; forms whose texts are equal are
    /// scanned once, together, by their [`MergedSet`].
    fn match_forms(&self, texts: &[&str], matched: &mut Vec<(usize, usize)>) {
        let mut done = 0usize;
        for (first, text) in texts.iter().enumerate() {
            if done & 1 << first != 0 {
                continue;
            }
            let mask = (first..texts.len())
                .filter(|&other| std::ptr::eq(texts[other], *text) || texts[other] == *text)
                .fold(0usize, |mask, other| mask | 1 << other);
            done |= mask;
            let haystack = text.as_bytes();
            match &self.merged[mask] {
                Some(merged) => {
                    if merged.set.is_match(haystack) {
                        let hits = merged.set.matches(haystack);
                        matched.extend(hits.iter().map(|index| merged.members[index]));
                    }
                }
                None => {
                    let members = (first..texts.len()).filter(|&form| mask & 1 << form != 0);
                    for form in members {
                        let set = &self.forms[form].set;
                        if set.is_match(haystack) {
                            matched.extend(set.matches(haystack).iter().map(|index| (form, index)));
                        }
                    }
                }
            }
        }
        matched.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word and number the rules spell, and a few more: none matches any rule of
    /// paranoia 1, which is what lets [`is_inert`] values skip the scan there.
    #[test]
    fn no_rule_matches_a_single_run_of_letters_and_digits() {
        let classes = [
            Class::Sqli,
            Class::Xss,
            Class::Traversal,
            Class::Command,
            Class::Protocol,
        ];
        let detector = Detector::new(1, &classes, &HashSet::new());
        let mut words: Vec<String> = rules::all()
            .flat_map(|rule| rule.pattern.split(|c: char| !c.is_ascii_alphanumeric()))
            .chain([
                "0", "1", "2", "12345", "0x27", "dune", "admin", "select", "union",
            ])
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect();
        words.extend(words.iter().map(|w| w.to_uppercase()).collect::<Vec<_>>());
        for word in words {
            assert!(is_inert(&word), "{word}");
            let target = Target::new(crate::targets::Location::Path, word.as_str(), true);
            let mut hits = Vec::new();
            detector.scan_one(&target, &mut Vec::new(), &mut Vec::new(), &mut hits);
            assert!(hits.is_empty(), "{word}: {hits:?}");
        }
        assert!(!Detector::new(2, &classes, &HashSet::new()).skip_inert);
    }
}
