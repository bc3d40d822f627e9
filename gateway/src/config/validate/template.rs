//! Route path templates (matchit syntax): `/orders/{id}`, `/images/img-{id}.png`,
//! `/files/{*rest}`; `{{` and `}}` are literal braces.
//!
//! The checks here explain the common mistakes in words; `matchit` itself has the last word, so
//! whatever it rejects is rejected too (the router inserts the very same strings).

/// Checks one template on its own. On a problem returns the message and the help.
pub(super) fn check(path: &str) -> Result<(), (String, String)> {
    let fail = |message: String, help: &str| Err((message, help.to_owned()));
    if !path.starts_with('/') {
        return fail(
            format!("route path `{path}` does not start with `/`"),
            "e.g. `/orders/{id}`",
        );
    }
    if let Some(c) = path
        .chars()
        .find(|c| matches!(c, '?' | '#') || c.is_whitespace() || c.is_control())
    {
        let what = match c {
            '?' => "a query (`?`)".to_owned(),
            '#' => "a fragment (`#`)".to_owned(),
            c => format!("the character {c:?}"),
        };
        let help = "a route path is the URL path only; percent-encode characters it cannot hold";
        return fail(format!("route path `{path}` contains {what}"), help);
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    let mut names: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let params = params(segment)
            .map_err(|(message, help)| (format!("{message} in route path `{path}`"), help))?;
        if params.len() > 1 {
            let help = "a path segment holds one parameter at most: split them with `/`";
            return fail(
                format!("route path `{path}` has two parameters in one segment `{segment}`"),
                help,
            );
        }
        for name in params {
            if let Some(rest) = name.strip_prefix('*') {
                let whole_last = i + 1 == segments.len() && segment.len() == name.len() + 2;
                if !whole_last {
                    let help = "a catch-all matches the rest of the path: it must be the whole \
                                last segment, e.g. `/files/{*rest}`";
                    return fail(
                        format!("catch-all `{{{name}}}` is not at the end of route path `{path}`"),
                        help,
                    );
                }
                check_name(rest, path)?;
                names.push(rest);
            } else {
                check_name(name, path)?;
                names.push(name);
            }
        }
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    if let Some(twice) = sorted.windows(2).find(|w| w[0] == w[1]) {
        let help = "give each parameter its own name";
        return fail(
            format!(
                "parameter `{{{}}}` appears twice in route path `{path}`",
                twice[0]
            ),
            help,
        );
    }
    if let Err(e) = matchit::Router::new().insert(path, ()) {
        return fail(
            format!("invalid route path `{path}`: {e}"),
            "see the matchit path syntax: `{name}` parameters, `{*rest}` catch-all",
        );
    }
    Ok(())
}

/// The parameter names (with a leading `*` for a catch-all) in one path segment.
fn params(segment: &str) -> Result<Vec<&str>, (String, String)> {
    let bytes = segment.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => i += 2,
            (b'{', _) => {
                let Some(len) = segment[i + 1..]
                    .find(['{', '}'])
                    .filter(|&l| bytes[i + 1 + l] == b'}')
                else {
                    let help = "close the parameter with `}` within the segment, or write `{{` \
                                for a literal `{`";
                    return Err(("unclosed `{`".to_owned(), help.to_owned()));
                };
                found.push(&segment[i + 1..i + 1 + len]);
                i += len + 2;
            }
            (b'}', _) => {
                return Err((
                    "unmatched `}`".to_owned(),
                    "write `}}` for a literal `}`".to_owned(),
                ));
            }
            _ => i += 1,
        }
    }
    Ok(found)
}

fn check_name(name: &str, path: &str) -> Result<(), (String, String)> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(());
    }
    let help = "parameter names use letters, digits and `_`, e.g. `{id}` or `{*rest}`".to_owned();
    Err((
        format!("invalid parameter name `{{{name}}}` in route path `{path}`"),
        help,
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    fn message(path: &str) -> String {
        check(path).unwrap_err().0
    }

    #[test]
    fn accepts_matchit_templates() {
        for path in [
            "/",
            "/orders",
            "/orders/{id}",
            "/v1/orders/{id}/items/{item_id}",
            "/files/{*rest}",
            "/img-{id}.png",
            "/a/{{literal}}",
            "/orders/",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn rejects_common_mistakes() {
        assert!(message("orders").contains("does not start with `/`"));
        assert!(message("/orders?x=1").contains("a query"));
        assert!(message("/orders/{id").starts_with("unclosed `{`"));
        assert!(message("/orders/id}").starts_with("unmatched `}`"));
        assert!(message("/orders/{}").contains("invalid parameter name `{}`"));
        assert!(message("/orders/{a b}").contains("the character ' '"));
        assert!(message("/orders/{a-b}").contains("invalid parameter name `{a-b}`"));
        assert!(message("/files/{*rest}/x").contains("is not at the end"));
        assert!(message("/files/x{*rest}").contains("is not at the end"));
        assert!(message("/{a}-{b}").contains("two parameters in one segment"));
        assert!(message("/{id}/x/{id}").contains("appears twice"));
    }
}
