//! An upstream on loopback that echoes what it received as JSON, so tests can see exactly what
//! the gateway forwarded. `/slow…` paths answer after 5 s (longer than the test timeouts);
//! `/delay/<ms>…` after that many milliseconds; `/status/<code>…` with that status. Every
//! request received is announced on [`EchoUpstream::received`], so a test can wait until a
//! request is in flight instead of sleeping.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::sync::Notify;

/// A running echo upstream.
pub struct EchoUpstream {
    /// Its address.
    pub address: SocketAddr,
    /// Notified each time a request arrives (before it is answered).
    pub received: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl EchoUpstream {
    /// Starts the upstream on 127.0.0.1 with an OS-chosen port.
    pub async fn start() -> EchoUpstream {
        let received = Arc::new(Notify::new());
        let announce = received.clone();
        let (address, task) = crate::loopback::serve("upstream", move |request| {
            announce.notify_one();
            echo(request)
        })
        .await;
        EchoUpstream {
            address,
            received,
            task,
        }
    }

    /// `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for EchoUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    if path.starts_with("/slow") {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let delay_ms = path
        .strip_prefix("/delay/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|ms| ms.parse::<u64>().ok());
    if let Some(ms) = delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = path
        .strip_prefix("/status/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::OK);
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let values: Vec<_> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| serde_json::Value::from(String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.insert(name.as_str().to_owned(), values.into());
    }
    let echo = serde_json::json!({
        "method": parts.method.as_str(),
        "path": path,
        "query": parts.uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-upstream", "echo")
        .body(Full::new(Bytes::from(echo.to_string())))
        .expect("valid response");
    Ok(response)
}
