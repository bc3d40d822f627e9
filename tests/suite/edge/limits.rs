//! The limits that keep one client from holding a listener: header size (431), body size, also
//! for streamed bodies (413, answered without waiting for the rest), slow headers and stalled
//! handshakes (cut off at `header_read_timeout_ms`), the connection cap, and idle keep-alive.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use http_body_util::channel::Channel;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmgate_tests::prometheus::{self, key};
use wasmgate_tests::tls::TestPki;
use wasmgate_tests::{EchoUpstream, TestGateway, http1, http2, scratch_dir};

use super::{listener, probe_route, start_gateway, tls_dir, tls_listener};

/// A mock route `GET /hello` answering 200 "hi".
const HELLO_ROUTE: &str = r#"
[[routes]]
path = "/hello"
methods = ["GET"]
integration = { type = "mock", status = 200, body = "hi" }
"#;

/// The chunks a streamed upload is sent in, and how much is sent at most.
const CHUNK_BYTES: usize = 64 * 1024;
const STREAM_LIMIT_BYTES: usize = 1024 * 1024;

#[tokio::test]
async fn headers_over_max_header_bytes_are_431_over_http1_and_http2() {
    // max_header_bytes is left at its default, 16 KiB.
    let gateway = TestGateway::start(HELLO_ROUTE).await;
    let url = gateway.url("/hello");
    let big = "a".repeat(20 * 1024);
    let medium = "a".repeat(8 * 1024);

    let fits = http1()
        .send(Method::GET, &url, &[("x-medium", medium.as_str())], "")
        .await;
    assert_eq!(fits.status, 200);
    let too_large = http1()
        .send(Method::GET, &url, &[("x-big", big.as_str())], "")
        .await;
    assert_eq!(
        too_large.status,
        431,
        "{}",
        String::from_utf8_lossy(&too_large.body)
    );
    assert_eq!(too_large.json()["type"], "REQUEST_HEADERS_TOO_LARGE");

    let fits = http2()
        .send(Method::GET, &url, &[("x-medium", medium.as_str())], "")
        .await;
    assert_eq!(fits.status, 200);
    // Over HTTP/2 the status is what counts (the h2 layer may answer it before the gateway).
    let too_large = http2()
        .send(Method::GET, &url, &[("x-big", big.as_str())], "")
        .await;
    assert_eq!(too_large.status, 431);
}

/// A gateway capping bodies at 1 KiB, proxying `/upload` to `upstream`.
async fn capped_gateway(upstream: &EchoUpstream) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[gateway]
max_body_bytes = 1024

[upstreams.echo]
url = "{}"

[[routes]]
path = "/upload"
methods = ["POST"]
integration = {{ type = "http", upstream = "echo" }}
"#,
        upstream.url()
    ))
    .await
}

#[tokio::test]
async fn a_content_length_over_max_body_bytes_is_413() {
    let upstream = EchoUpstream::start().await;
    let gateway = capped_gateway(&upstream).await;
    let url = gateway.url("/upload");
    let fits = http1()
        .send(Method::POST, &url, &[], vec![b'x'; 1000])
        .await;
    assert_eq!(fits.status, 200);
    assert_eq!(fits.json()["body"].as_str().map(str::len), Some(1000));
    let too_large = http1()
        .send(Method::POST, &url, &[], vec![b'x'; 2048])
        .await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["type"], "REQUEST_TOO_LARGE");
}

#[tokio::test]
async fn a_streamed_body_over_max_body_bytes_is_413_before_the_client_finishes() {
    let upstream = EchoUpstream::start().await;
    let gateway = capped_gateway(&upstream).await;
    let (status, body, _) = post_endless_stream(gateway.inner().address(), "/upload").await;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    assert_eq!(answer["type"], "REQUEST_TOO_LARGE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_headers_is_cut_off_at_the_header_read_timeout() {
    let gateway = TestGateway::start(&format!(
        "[gateway]\nheader_read_timeout_ms = 1000\n{HELLO_ROUTE}"
    ))
    .await;
    let started = Instant::now();
    let stream = TcpStream::connect(gateway.inner().address()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        writer
            .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nx-slow: ")
            .await?;
        // One byte every 200 ms of a header that would take 20 s to finish.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer.write_all(b"a").await?;
        }
        Ok::<_, std::io::Error>(())
    });

    // While the slow client trickles, others are served.
    assert_eq!(http1().get(&gateway.url("/hello")).await.status, 200);

    let answered = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(
        elapsed < Duration::from_secs(3),
        "the slow client was cut off only after {elapsed:?}"
    );
    // The gateway may say why (408) before closing, but must not serve the request.
    assert!(
        answered.is_empty() || answered.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    let closed = key(
        "wasmgate_connections_closed_total",
        &[("listener", "listener-0"), ("reason", "header_timeout")],
    );
    wait_for_metric_above(&gateway, &closed, 0.0).await;
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_cut_off_at_the_header_read_timeout() {
    let pki = TestPki::new();
    let config = format!(
        "[gateway]\nheader_read_timeout_ms = 1000\n\n{}{}",
        tls_listener("public", &["server"], ""),
        probe_route()
    );
    let gateway = start_gateway(tls_dir(&pki), &config).await;
    let started = Instant::now();
    // Connects and never sends a ClientHello.
    let mut stream = TcpStream::connect(listener(&gateway, "public"))
        .await
        .unwrap();
    let answered = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off only after {:?}",
        started.elapsed()
    );
    assert!(answered.len() < 64, "{answered:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_closed_at_once_and_counted() {
    let config = format!(
        "[gateway]\nmax_connections = 2\n\n[[listeners]]\nname = \"limited\"\naddress = \"127.0.0.1:0\"\n{HELLO_ROUTE}"
    );
    let gateway = start_gateway(scratch_dir(), &config).await;
    let address = listener(&gateway, "limited");
    let refused = key(
        "wasmgate_connections_refused_total",
        &[("listener", "limited"), ("reason", "max_connections")],
    );
    let before = metric(&gateway, &refused).await;

    // Two keep-alive connections, each served, stay open.
    let mut first = TcpStream::connect(address).await.unwrap();
    let mut second = TcpStream::connect(address).await.unwrap();
    for stream in [&mut first, &mut second] {
        let response = raw_get(stream, "/hello").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    // A third is accepted and closed without a response.
    let mut third = TcpStream::connect(address).await.unwrap();
    let answered = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(
        answered.is_empty(),
        "{}",
        String::from_utf8_lossy(&answered)
    );

    wait_for_metric_above(&gateway, &refused, before).await;
    // The two connections within the cap are still served.
    let response = raw_get(&mut first, "/hello").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_idle_timeout() {
    let gateway =
        TestGateway::start(&format!("[gateway]\nidle_timeout_ms = 500\n{HELLO_ROUTE}")).await;
    let mut stream = TcpStream::connect(gateway.inner().address()).await.unwrap();
    let response = raw_get(&mut stream, "/hello").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let idle_since = Instant::now();
    let answered = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        answered.is_empty(),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    // Kept alive for a while first: closed by the idle timeout, not right after the response.
    assert!(
        idle_since.elapsed() >= Duration::from_millis(400),
        "closed after {:?}",
        idle_since.elapsed()
    );
    let closed = key(
        "wasmgate_connections_closed_total",
        &[("listener", "listener-0"), ("reason", "idle")],
    );
    wait_for_metric_above(&gateway, &closed, 0.0).await;
}

/// Waits (up to 5 s) until the series `series` on `/metrics` is above `floor`. Metrics are
/// process-wide, shared by the tests running alongside: only an increase is meaningful.
async fn wait_for_metric_above(gateway: &TestGateway, series: &str, floor: f64) {
    let started = Instant::now();
    while metric(gateway, series).await <= floor {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{series} did not go above {floor}"
        );
        tokio::task::yield_now().await;
    }
}

/// The value of the series `series` on the gateway's `/metrics` (0 if absent).
async fn metric(gateway: &TestGateway, series: &str) -> f64 {
    let page = http1().get(&gateway.admin_url("/metrics")).await;
    let samples = prometheus::parse(std::str::from_utf8(&page.body).unwrap());
    samples.get(series).copied().unwrap_or(0.0)
}

/// Sends `GET path` over HTTP/1.1 on `stream` (keep-alive) and reads one whole response, head
/// and `content-length` body, returned as text.
async fn raw_get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("a response within 5 s")
            .expect("read the response");
        assert!(
            read > 0,
            "closed before a whole response: {}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&buffer[..read]);
        let Some(head_end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&response[..head_end]).to_ascii_lowercase();
        let body_length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse::<usize>().unwrap());
        if response.len() >= head_end + 4 + body_length {
            return String::from_utf8(response).unwrap();
        }
    }
}

/// Reads `stream` until the peer closes it (end of stream, or a reset), returning whatever
/// arrived first. Panics if it is still open after `limit`.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open after {limit:?}");
    received
}

/// POSTs a chunked body to `address` in [`CHUNK_BYTES`] chunks, up to [`STREAM_LIMIT_BYTES`],
/// and then keeps the body open without ever ending it; stops sending as soon as the response
/// arrives. Returns the response and how many bytes were handed to the connection by then.
/// Panics if no response arrives within 5 s: a server waiting for the end of the body.
async fn post_endless_stream(address: SocketAddr, path: &str) -> (StatusCode, Bytes, usize) {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let (mut body, receiver) = Channel::<Bytes, Infallible>::new(1);
    let request = Request::post(path)
        .header(http::header::HOST, "localhost")
        .body(receiver)
        .unwrap();
    let mut response = std::pin::pin!(sender.send_request(request));
    let chunk = Bytes::from(vec![b'x'; CHUNK_BYTES]);
    let mut sent = 0;
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            tokio::select! {
                response = &mut response => break response,
                delivered = body.send_data(chunk.clone()), if sent < STREAM_LIMIT_BYTES => {
                    // An error: the connection stopped taking the body (the answer is coming).
                    sent = if delivered.is_ok() { sent + CHUNK_BYTES } else { STREAM_LIMIT_BYTES };
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!("no response within 5 s of streaming {sent} bytes (body still open)")
    })
    .unwrap_or_else(|e| panic!("the upload failed without a response: {e}"));
    let status = answer.status();
    let text = answer
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    drop(body);
    (status, text, sent)
}
