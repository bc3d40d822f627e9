//! The two requests the load generator sends, and the bodies the backend answers them with.
//!
//! - [`Workload::Small`]: `GET /small`, answered with a 13-byte text body.
//! - [`Workload::Json`]: `POST /json` with a 1 KB JSON book, answered with a 1 KB JSON list.
//!
//! Both carry the headers the plugin chains check: an API key, a bearer token (the JWT
//! authorizer of both chains) and a browser origin (the GET chain's CORS plugin).

use std::fmt::Write as _;

/// The body of `GET /small`.
pub const SMALL_BODY: &[u8] = b"Hello, world!";

/// The API key every request carries (for chains keyed on it).
pub const API_KEY: &str = "bench-key";

/// The bearer token every request carries: HS256, signed with the secret of the JWT authorizer
/// of `configs/realistic-chain.toml` and `configs/get-chain.toml`, valid until 2100.
pub const BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiZW5jaCIsImlzcyI6Indhc21nYXRlLWJlbmNoIiwiZXhwIjo0MTAyNDQ0ODAwfQ.DP2ZSCt2hJm5Yp1eEcD1NiTnhVo2QAyRZhYJcBF9CII";

/// The browser origin every request carries: the one `configs/get-chain.toml`'s CORS plugin
/// allows.
pub const ORIGIN: &str = "https://app.example.com";

/// The attack of [`Workload::raw_attack`].
pub const ATTACK: &str = "<script>alert(document.cookie)</script>";

/// [`ATTACK`] URL-encoded, for a query.
const ATTACK_QUERY: &str = "%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E";

/// One kind of request the load generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// `GET /small` → 13-byte body.
    Small,
    /// `POST /json` with a 1 KB JSON body → 1 KB JSON body.
    Json,
}

impl Workload {
    /// Short name for tables: `small` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Small => "small",
            Workload::Json => "json",
        }
    }

    /// What it sends and receives, for the report.
    pub fn description(self) -> &'static str {
        match self {
            Workload::Small => "`GET /small` → 200, 13-byte text body",
            Workload::Json => "`POST /json` with a 1 KB JSON body → 200, 1 KB JSON body",
        }
    }

    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Workload::Small => "/small",
            Workload::Json => "/json",
        }
    }

    /// The request method.
    pub fn method(self) -> &'static str {
        match self {
            Workload::Small => "GET",
            Workload::Json => "POST",
        }
    }

    /// The request body (empty for `Small`).
    pub fn request_body(self) -> String {
        match self {
            Workload::Small => String::new(),
            Workload::Json => book_json(),
        }
    }

    /// Request headers besides `Host` and `Content-Length`.
    pub fn headers(self) -> Vec<(&'static str, &'static str)> {
        let mut headers = vec![
            ("x-api-key", API_KEY),
            ("authorization", BEARER),
            ("origin", ORIGIN),
        ];
        if self == Workload::Json {
            headers.push(("content-type", "application/json"));
        }
        headers
    }

    /// A wrk script that sends this request (wrk builds it once; no per-request Lua).
    pub fn wrk_script(self) -> String {
        let mut script = format!("wrk.method = \"{}\"\n", self.method());
        for (name, value) in self.headers() {
            let _ = writeln!(script, "wrk.headers[\"{name}\"] = \"{value}\"");
        }
        let body = self.request_body();
        if !body.is_empty() {
            let _ = writeln!(script, "wrk.body = [==[{body}]==]");
        }
        script
    }

    /// The raw HTTP/1.1 request, for probes and the idle-connection test.
    pub fn raw_request(self, host: &str, close: bool) -> String {
        self.raw(self.path(), &self.request_body(), host, close)
    }

    /// The same request carrying a cross-site-scripting payload where each workload has room
    /// for one — in the query of `GET /small`, in a JSON string of `POST /json`'s body — which
    /// any WAF must refuse: the probe's proof that the WAF scenarios inspect what they should.
    pub fn raw_attack(self, host: &str) -> String {
        match self {
            Workload::Small => {
                let path = format!("{}?q={ATTACK_QUERY}", self.path());
                self.raw(&path, "", host, true)
            }
            Workload::Json => {
                let body =
                    book_json().replace("\"Dune\"", &serde_json::Value::from(ATTACK).to_string());
                self.raw(self.path(), &body, host, true)
            }
        }
    }

    fn raw(self, path: &str, body: &str, host: &str, close: bool) -> String {
        let mut request = format!(
            "{} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\n",
            self.method(),
            body.len()
        );
        for (name, value) in self.headers() {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        if close {
            request.push_str("connection: close\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        request
    }
}

/// A book of about 1 KB, as a client would POST it (valid for the chain's validator schema).
pub fn book_json() -> String {
    let description =
        "A stark desert world, a noble family, a spice that extends life. ".repeat(13);
    serde_json::json!({
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "isbn": "978-0441013593",
        "tags": ["science fiction", "classic", "desert", "politics"],
        "description": description.trim_end(),
    })
    .to_string()
}

/// The backend's answer to `POST /json`: a list of books, about 1 KB.
pub fn catalogue_json() -> String {
    let books: Vec<_> = (1..=9)
        .map(|id| {
            serde_json::json!({
                "id": id,
                "title": format!("Book number {id}"),
                "author": "Frank Herbert",
                "year": 1960 + id,
                "tags": ["science fiction", "classic"],
            })
        })
        .collect();
    serde_json::json!({ "count": books.len(), "books": books }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_about_one_kilobyte() {
        for body in [book_json(), catalogue_json()] {
            assert!((900..=1200).contains(&body.len()), "{} bytes", body.len());
        }
    }

    #[test]
    fn raw_requests_carry_their_body_length() {
        let request = Workload::Json.raw_request("127.0.0.1", true);
        let (head, body) = request.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.starts_with("POST /json HTTP/1.1\r\n"));
    }

    #[test]
    fn attacks_go_where_each_workload_has_room_for_one() {
        let small = Workload::Small.raw_attack("127.0.0.1");
        assert!(small.starts_with("GET /small?q=%3Cscript%3E"), "{small}");
        let json = Workload::Json.raw_attack("127.0.0.1");
        let (head, body) = json.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let book: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(book["title"], ATTACK);
    }

    #[test]
    fn both_workloads_carry_what_the_chains_check() {
        for workload in [Workload::Small, Workload::Json] {
            let request = workload.raw_request("127.0.0.1", false);
            assert!(request.contains(&format!("authorization: {BEARER}\r\n")));
            assert!(request.contains(&format!("origin: {ORIGIN}\r\n")));
            let script = workload.wrk_script();
            assert!(script.contains(&format!("wrk.headers[\"origin\"] = \"{ORIGIN}\"")));
        }
    }
}
