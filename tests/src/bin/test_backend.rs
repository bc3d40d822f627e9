//! A throwaway HTTP backend in a process of its own, for tests that kill a backend outright
//! (SIGKILL: its connections reset, its port refuses) and start it again on the same port.
//!
//! `test-backend NAME [PORT]` listens on `127.0.0.1:PORT` (0 or absent: a free port) and
//! prints `listening ADDRESS` on stdout once it accepts connections. It answers every
//! request 200 with its name as the body and in `x-backend`, after `delay_ms` milliseconds
//! when the query names them (`?delay_ms=50`). It stops with its parent's end of stdin.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

fn main() {
    let mut args = std::env::args().skip(1);
    let name: &'static str = args.next().expect("usage: test-backend NAME [PORT]").leak();
    let port: u16 = args.next().map_or(0, |p| p.parse().expect("a port number"));
    // Ends this process when the test that started it ends, even if it never kills it.
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:{port}: {e}"));
        let address = listener.local_addr().expect("local address");
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening {address}").expect("stdout");
        stdout.flush().expect("stdout");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| answer(name, request));
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
}

async fn answer(
    name: &'static str,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let delay = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("delay_ms="))
        .and_then(|ms| ms.parse().ok());
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(Response::builder()
        .header("x-backend", name)
        .body(Full::new(Bytes::from_static(name.as_bytes())))
        .expect("a valid response"))
}
