//! Generated inputs for the micro-benchmarks: a large route table and the requests that
//! exercise each kind of match.

use std::fmt::Write as _;

/// `count` routes answered by mocks, cycling through four shapes:
/// `GET /api/v1/svc<i>/items` (static), `GET /api/v1/svc<i>/items/{id}` (one parameter),
/// `GET,PUT /api/v1/svc<i>/items/{id}/reviews/{review}` (two) and `/static<i>/{*rest}`
/// (catch-all, any method). As `[[routes]]` tables, to append to a config.
pub fn route_table(count: usize) -> String {
    let mut toml = String::new();
    for i in 0..count {
        let (methods, path) = match i % 4 {
            0 => (r#"["GET"]"#, format!("/api/v1/svc{i}/items")),
            1 => (r#"["GET"]"#, format!("/api/v1/svc{i}/items/{{id}}")),
            2 => (
                r#"["GET", "PUT"]"#,
                format!("/api/v1/svc{i}/items/{{id}}/reviews/{{review}}"),
            ),
            _ => ("[]", format!("/static{i}/{{*rest}}")),
        };
        let _ = write!(
            toml,
            "[[routes]]\nid = \"r{i}\"\nmethods = {methods}\npath = \"{path}\"\n\
             integration = {{ type = \"mock\", body = \"r{i}\" }}\n\n"
        );
    }
    toml
}

/// One lookup to time against [`route_table`]: a name, the method and the path.
pub struct Lookup {
    /// The benchmark's name.
    pub name: &'static str,
    /// The request method.
    pub method: http::Method,
    /// The request path.
    pub path: String,
}

/// Lookups near the middle of a table of `count` routes (`count` ≥ 8): each shape, a miss and a
/// wrong method.
pub fn lookups(count: usize) -> Vec<Lookup> {
    let base = (count / 2) / 4 * 4;
    let lookup = |name, method, path: String| Lookup { name, method, path };
    vec![
        lookup(
            "static",
            http::Method::GET,
            format!("/api/v1/svc{base}/items"),
        ),
        lookup(
            "one_param",
            http::Method::GET,
            format!("/api/v1/svc{}/items/42", base + 1),
        ),
        lookup(
            "two_params",
            http::Method::PUT,
            format!("/api/v1/svc{}/items/42/reviews/7", base + 2),
        ),
        lookup(
            "catch_all",
            http::Method::GET,
            format!("/static{}/css/site.css", base + 3),
        ),
        lookup("not_found", http::Method::GET, "/nowhere/at/all".to_owned()),
        lookup(
            "method_not_allowed",
            http::Method::DELETE,
            format!("/api/v1/svc{base}/items"),
        ),
    ]
}
