//! Native per-request cost of the mapper on a ~1 KB JSON body, request and response side:
//! `cargo run --release -p mapper --example mapper_cost`.

use std::time::Instant;

use mapper::Mapper;
use serde_json::json;
use wasmgate_plugin_sdk::testing::{self, FakeContext, FakeRequest, FakeResponse};

fn main() {
    let plugin = testing::init::<Mapper>(json!({
        "variables": { "table": "books" },
        "request": {
            "method": "POST",
            "path": "/tables/{{ variables.table }}/items/{{ path.id }}",
            "headers": { "set": { "x-table": "{{ variables.table }}" } },
            "body": r#"{"TableName": {{ variables.table }}, "Item": {"title": {"S": {{ body.title }}}, "authors": {{ body.authors | map(attribute="name") | list }}}}"#,
        },
        "response": { "rules": [{ "backend_status": "2\\d\\d",
            "body": r#"{"books": [{% for i in body.Items %}{"id": {{ i.id.S }}, "title": {{ i.title.S }}}{% if not loop.last %}, {% endif %}{% endfor %}], "count": {{ body.Count }}}"# }] },
    }))
    .expect("valid config");
    let request_body = json!({
        "title": "Dune", "year": 1965,
        "authors": (0..8).map(|i| json!({ "name": format!("Author number {i}"), "born": 1900 + i })).collect::<Vec<_>>(),
        "summary": "x".repeat(600),
    })
    .to_string();
    let items: Vec<_> = (0..12)
        .map(|i| json!({ "id": { "S": i.to_string() }, "title": { "S": format!("Book title {i}") }, "year": { "N": "1965" } }))
        .collect();
    let response_body = json!({ "Count": 12, "Items": items }).to_string();
    const N: u32 = 20_000;
    let start = Instant::now();
    for _ in 0..N {
        let mut request = FakeRequest::new("GET", "/books/7")
            .path_param("id", "7")
            .body(request_body.clone());
        let action = testing::integration_request(&plugin, &mut request, &mut FakeContext::new());
        assert!(action.is_continue());
    }
    let request_side = start.elapsed() / N;
    let start = Instant::now();
    for _ in 0..N {
        let request = FakeRequest::new("GET", "/books");
        let mut response = FakeResponse::new(200).body(response_body.clone());
        let action = testing::integration_response(
            &plugin,
            &request,
            &mut response,
            &mut FakeContext::new(),
        );
        assert!(action.is_continue());
    }
    let response_side = start.elapsed() / N;
    println!(
        "mapper: request side ({} B body) {request_side:?}, response side ({} B body) {response_side:?} per request (native, fake host)",
        request_body.len(),
        response_body.len()
    );
}
