//! `waf`: the built-in web application firewall, the gateway's front line. Put it first in the
//! global chain; it runs at the method-request stage.
//!
//! ```toml
//! [plugins.waf]
//! path = "target/plugins/waf.wasm"
//!
//! [plugins.waf.config]
//! mode = "anomaly"               # block | anomaly (default) | detect
//! paranoia = 1                   # 1 (default) to 4: more rules, more false positives
//! anomaly_threshold = 5          # anomaly mode only; a critical match scores 5 (default 5)
//! allowed_methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # the default
//! disabled_rules = ["941180"]    # built-in rule ids switched off
//!
//! [plugins.waf.config.classes]   # all on by default
//! sqli = true
//! xss = true
//! traversal = true               # path traversal, file inclusion
//! command = true                 # OS command injection
//! protocol = true                # methods, smuggling markers, header injection, NUL bytes
//!
//! [plugins.waf.config.inspect]   # what the built-in rules read (defaults shown)
//! path = true
//! query = true                   # names and values, and all values joined
//! cookies = true
//! headers = ["user-agent", "referer"]   # or "all" (but cookie and authorization)
//! body = true                    # JSON strings and keys, form fields, or raw text;
//!                                # false: the gateway does not buffer bodies for the WAF
//!
//! [plugins.waf.config.ip]        # CIDR ranges or addresses, IPv4 and IPv6
//! deny = ["203.0.113.0/24", "2001:db8:bad::/48"]   # refused first
//! allow = []                     # when not empty, only these clients pass
//! trusted_proxies = ["10.0.0.0/8"]   # X-Forwarded-For is believed only from these peers
//!
//! [[plugins.waf.config.rules]]   # custom rules, checked after the built-in ones
//! id = "no-debug"
//! target = "header:x-debug"      # path | query | query:NAME | headers | header:NAME |
//!                                # cookies | cookie:NAME | body | method | any
//! operator = "equals"            # contains | equals | starts_with | ends_with | regex |
//!                                # size_greater_than (pattern = a number of bytes)
//! pattern = "1"
//! action = "block"               # block (default) | log | score
//! # score = 5                    # with action = "score": points added (default 5)
//! # normalize = true             # match the decoded, lower-case value (default: as received)
//! ```
//!
//! # What it detects
//!
//! Every inspected value is normalised first ([`normalize`]): URL-decoded repeatedly (with
//! `%uXXXX` and overlong UTF-8), HTML entities and JS escapes decoded, NUL bytes removed,
//! lower-cased; comments and whitespace collapsed, and a shell-quoting-free form for commands.
//!
//! | class     | how                                                                | ids          |
//! |-----------|--------------------------------------------------------------------|--------------|
//! | SQLi      | SQL tokenizer + fingerprints (libinjection-style, [`sqli`]), and    | 942100–942300 |
//! |           | patterns for what fingerprints miss: time-based probes, stacked and | 942140–942230 |
//! |           | procedural statements, catalogs, file writes, `/*!…*/`, `union select`, dialect operators | |
//! | XSS       | tags, event handlers, script URLs, script APIs (regex set)          | 941xxx       |
//! | traversal | `../../` in any encoding, file wrappers, sensitive files            | 930xxx, 931100 |
//! | command   | Unix and Windows commands after separators and in substitutions,    | 932xxx       |
//! |           | quoting and variable evasion, globs, interpreters, reverse shells   |              |
//! | protocol  | method list, CL+TE / bad TE (smuggling), CRLF injection, NUL bytes  | 911100, 92xxxx |
//! | IP        | deny list, allow list                                               | ip-deny, ip-allow |
//!
//! Rules carry a paranoia level; those above the configured one are not compiled. Rules of
//! paranoia 1 and 2 score as critical (one match blocks at the default threshold); 3 and 4 as
//! warnings. All regexes are compiled once at `init` into one [`regex::RegexSet`] per
//! normalised form.
//!
//! Precision at paranoia 1 comes from context, not from fewer rules. A sensitive path or a
//! script API named by a single bare word in a sentence of mostly words (`add the host to
//! /etc/hosts and restart`) is a mention and does not count ([`rules::Prose`]); markup, a
//! traversal of two levels, a NUL byte, `$(` and shell separators are never prose, because an
//! attacker can wrap any payload in words. Two kinds of named code are exempt in a sentence
//! that holds no other code ([`rules::named`]): one plain command in Markdown backticks
//! (`` type `id` to see your groups ``; not `` x`id` ``, nor one with an absolute path, a URL,
//! a variable or a redirection), and a bare `<script>` tag followed by words only
//! (`the <script> tag loads JavaScript`), which a browser would read as a script that does
//! not parse. An English word is a command only with a command-like tail (`; cat food` passes,
//! `; cat /etc/passwd` does not), but a shell, an interpreter or `rm` after a separator always
//! counts (`; rm database`); an interpreter's `-c`/`-e` needs code after it (`Python -c flag
//! usage` passes), `net user` needs a command's shape. A SQL reading that is a syntax error
//! (`what does 'or 1=1' mean`, `Sleep(8 hours) is the best medicine`) is not an injection, but
//! a comment right after an unbalanced closing quote always is (`admin'--x`). From paranoia 2
//! on, every mention counts.
//!
//! # Outcomes
//!
//! A blocked request gets a 403 `{"message": "request blocked by the web application
//! firewall", "type": "WAF_FILTERED", "requestId": "…"}`; the payload is never echoed. Every
//! match is logged (rule ids, locations such as `query:id`, the score; never values), and the
//! context gets `waf.matched` (comma-separated rule ids), `waf.score` and `waf.action`
//! (`blocked` or `detected`) for later plugins and the access log. IP deny/allow blocks in
//! `block` and `anomaly` modes; `detect` mode never blocks.

mod config;
mod custom;
mod engine;
mod ip;
mod normalize;
mod protocol;
mod rules;
mod sqli;
mod targets;

use std::net::IpAddr;

use wasmgate_plugin_sdk::errors::plugins::WAF_FILTERED;
use wasmgate_plugin_sdk::{Action, BodyAccess, Context, InitError, Plugin, Request, Stages, log};

use config::Settings;
pub use config::{Classes, Config, HeaderSelection, Inspect, IpConfig, Mode};
pub use custom::{CustomRuleConfig, OperatorName, RuleAction};
use engine::{Detector, Hit};

/// The context key listing the matched rule ids, comma-separated.
pub const MATCHED_KEY: &str = "waf.matched";
/// The context key holding the request's anomaly score.
pub const SCORE_KEY: &str = "waf.score";
/// The context key saying what the WAF did: `blocked` or `detected`.
pub const ACTION_KEY: &str = "waf.action";
/// The error type of a blocked request.
pub const ERROR_TYPE: &str = WAF_FILTERED.name;

/// The `waf` plugin.
pub struct Waf {
    settings: Settings,
    detector: Detector,
}

/// What the checks concluded.
struct Verdict {
    hits: Vec<Hit>,
    score: u32,
    block: bool,
}

impl Plugin for Waf {
    type Config = Config;

    fn init(config: Config) -> Result<Self, InitError> {
        let settings = Settings::try_from(config)?;
        let detector = Detector::new(settings.paranoia, &settings.classes, &settings.disabled);
        Ok(Waf { settings, detector })
    }

    fn stages(&self) -> Stages {
        Stages::METHOD_REQUEST
    }

    fn body_access(&self) -> BodyAccess {
        if self.settings.collect.body || self.settings.collect.extra_body {
            BodyAccess::REQUEST
        } else {
            BodyAccess::NONE
        }
    }

    fn on_method_request(&self, request: &mut Request<'_>, context: &mut Context<'_>) -> Action {
        let verdict = self.inspect(request, context);
        if verdict.hits.is_empty() {
            return Action::Continue;
        }
        let block = verdict.block && self.settings.mode != config::Mode::Detect;
        self.report(&verdict, block, context);
        if block {
            Action::error(
                context,
                WAF_FILTERED,
                "request blocked by the web application firewall",
            )
        } else {
            Action::Continue
        }
    }
}

impl Waf {
    /// Runs every check on the request.
    fn inspect(&self, request: &Request<'_>, context: &Context<'_>) -> Verdict {
        let settings = &self.settings;
        let mut hits = Vec::new();
        let mut block = false;
        if let Some(ip_hit) = self.check_ip(request, context) {
            hits.push(ip_hit);
            return Verdict {
                hits,
                score: 0,
                block: true,
            };
        }
        let method = request.method();
        let headers = targets::Headers::read(request);
        let targets = targets::collect(request, &headers, &settings.collect);
        if settings.classes.contains(&rules::Class::Protocol) {
            let mut found = Vec::new();
            protocol::check(
                &headers,
                &method,
                &settings.allowed_methods,
                &targets,
                &mut found,
            );
            hits.extend(
                found
                    .into_iter()
                    .filter(|id| !settings.disabled.contains(*id))
                    .map(|id| Hit {
                        id: id.to_owned(),
                        name: protocol::name(id),
                        score: rules::Severity::Critical.score(),
                        location: "request".into(),
                    }),
            );
        }
        self.detector.scan(&targets, &mut hits);
        // Each rule counts once, however many values it matched.
        let builtin_score: u32 = hits
            .iter()
            .enumerate()
            .filter(|(index, hit)| !hits[..*index].iter().any(|other| other.id == hit.id))
            .map(|(_, hit)| hit.score)
            .sum();
        if settings.mode == config::Mode::Block && !hits.is_empty() {
            block = true;
        }
        let mut score = builtin_score;
        for rule in &settings.custom {
            if rule.matches(&method, &targets) {
                let points = match rule.action {
                    RuleAction::Block => {
                        block = true;
                        0
                    }
                    RuleAction::Score => rule.score,
                    RuleAction::Log => 0,
                };
                score += points;
                hits.push(Hit {
                    id: rule.id.clone(),
                    name: "custom rule",
                    score: points,
                    location: "custom".into(),
                });
            }
        }
        if settings.mode == config::Mode::Anomaly && score >= settings.threshold {
            block = true;
        }
        Verdict { hits, score, block }
    }

    /// The deny / allow lists against the client address.
    fn check_ip(&self, request: &Request<'_>, context: &Context<'_>) -> Option<Hit> {
        let settings = &self.settings;
        if settings.deny.is_empty() && settings.allow.is_empty() {
            return None;
        }
        let peer: IpAddr = context.client_ip()?.parse().ok()?;
        let forwarded: Vec<String> = if settings.trusted_proxies.is_empty() {
            Vec::new()
        } else {
            request
                .header_values("x-forwarded-for")
                .into_iter()
                .map(|value| String::from_utf8_lossy(&value).into_owned())
                .collect()
        };
        let client = ip::client_address(peer, &forwarded, &settings.trusted_proxies);
        let id = if settings.deny.contains(client) {
            "ip-deny"
        } else if !settings.allow.is_empty() && !settings.allow.contains(client) {
            "ip-allow"
        } else {
            return None;
        };
        Some(Hit {
            id: id.into(),
            name: "IP list",
            score: 0,
            location: "client-ip".into(),
        })
    }

    /// Logs the matches and records them in the context.
    fn report(&self, verdict: &Verdict, block: bool, context: &mut Context<'_>) {
        let mut ids: Vec<&str> = Vec::with_capacity(verdict.hits.len());
        for hit in &verdict.hits {
            if !ids.contains(&hit.id.as_str()) {
                ids.push(&hit.id);
            }
        }
        let ids = ids.join(",");
        let locations: Vec<String> = verdict
            .hits
            .iter()
            .map(|hit| format!("{}@{}", hit.id, hit.location))
            .collect();
        let mut names: Vec<&str> = verdict.hits.iter().map(|hit| hit.name).collect();
        names.dedup();
        let names = names.join(",");
        let action = if block { "blocked" } else { "detected" };
        let score = verdict.score.to_string();
        let fields = [
            ("rules", ids.as_str()),
            ("names", &names),
            ("locations", &locations.join(",")),
            ("score", &score),
            ("action", action),
        ];
        if block {
            log::warn("waf: request blocked", &fields);
        } else {
            log::info("waf: rules matched", &fields);
        }
        // The keys are ours (never `gateway.`), so these edits cannot be refused.
        let _ = context.set(MATCHED_KEY, &ids);
        let _ = context.set(SCORE_KEY, &score);
        let _ = context.set(ACTION_KEY, action);
    }
}

wasmgate_plugin_sdk::export_plugin!(Waf);
