//! Cross-site scripting (CRS 941): tags, event handlers, script URLs, script APIs.

use super::{Class, Context, Form, PatternRule, code_rule, rule, rule_in};

/// The XSS rules.
pub(super) const RULES: &[PatternRule] = &[
    // A browser runs a script whatever text surrounds it; only a bare `<script>` followed by
    // words in a sentence (`the <script> tag loads JavaScript`) is exempt at paranoia 1.
    rule_in(
        Context::BareScriptTag,
        "941110",
        "XSS script tag",
        Class::Xss,
        1,
        Form::Compact,
        r"<\s*script\b|</\s*script\s*>",
    ),
    rule(
        "941120",
        "XSS event handler attribute",
        Class::Xss,
        1,
        Form::Compact,
        r"<[a-z!/?][^>]*?[\s/'\x22]on[a-z]{3,}\s*=|(?:^|[\s'\x22;/])on(?:error|load|click|dblclick|mouse\w+|focus|blur|key\w+|submit|change|input|toggle|begin|end|animation\w+|transition\w+|pointer\w+|touch\w+|drag\w*|drop|copy|cut|paste|wheel|scroll|resize|unload|beforeunload|hashchange|message|pageshow|popstate|storage|play|pause|afterprint|beforeprint|show|search|select|invalid|reset|contextmenu|auxclick)\s*=\s*\S",
    ),
    rule(
        "941130",
        "XSS scriptable URL scheme",
        Class::Xss,
        1,
        Form::Compact,
        r#"(?:^|[\s'"`=(<:,;])(?:javascript|vbscript|livescript|mocha)\s*:\s*(?:/|[\w$.\[\]'"]+\s*[(`=]|[\w$.]+$)|(?:href|src|action|formaction|data|xlink:href|background|dynsrc|lowsrc|poster|srcdoc|from|to|values)\s*=\s*['"`]?\s*(?:javascript|vbscript|livescript)\s*:|(?:^|[\s'"=(])data\s*:\s*(?:text/html|text/xml|image/svg\+xml|application/(?:x-)?(?:javascript|xhtml))"#,
    ),
    rule(
        "941140",
        "XSS dangerous element",
        Class::Xss,
        1,
        Form::Compact,
        // With an attribute or a nested tag: a bare `<Object>` or `<form>` in prose or type
        // docs is not a vector.
        r"<\s*(?:iframe|frame|frameset|object|embed|applet|base|meta|link|svg|math|form|isindex|xss|import|template|portal)\b(?:[^>]*?[\s/][a-z-]+\s*=|[^>]*>\s*<)",
    ),
    code_rule(
        "941160",
        "XSS script API",
        Class::Xss,
        1,
        Form::Compact,
        r"\b(?:document\s*\.\s*(?:cookie|domain|write(?:ln)?)|window\s*\.\s*location|\.innerhtml\s*=|string\s*\.\s*fromcharcode|\batob\s*\(\s*['\x22`]|\beval\s*\(\s*(?:atob|unescape|string|location|name|['\x22`])|\b(?:alert|confirm|prompt)\s*(?:\(\s*(?:document|window|[\d'\x22`/])|`))",
    ),
    rule(
        "941170",
        "XSS CSS expression or binding",
        Class::Xss,
        1,
        Form::Compact,
        r"expression\s*\(\s*[a-z]|-moz-binding\s*:|behavior\s*:\s*url|@import\s+['\x22]?\s*(?:javascript|data):",
    ),
    rule(
        "941180",
        "XSS any HTML tag with attributes",
        Class::Xss,
        2,
        Form::Compact,
        r"<\s*[a-z]+[^>]*\s[a-z-]+\s*=\s*['\x22]?[^>]*>",
    ),
    rule(
        "941190",
        "XSS script function call",
        Class::Xss,
        2,
        Form::Compact,
        r"\b(?:alert|confirm|prompt|eval|settimeout|setinterval|fetch|importscripts)\s*\(",
    ),
];
