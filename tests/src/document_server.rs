//! A document server on loopback: answers every `GET` with the content a test set (a JWKS, a
//! schema …), counts the fetches and announces each, so a test can wait for the gateway's next
//! fetch instead of sleeping.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use tokio::sync::Notify;

/// A running document server.
pub struct DocumentServer {
    /// Its address.
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    /// What a `GET` answers: the status and the body.
    content: Mutex<(StatusCode, Bytes)>,
    fetches: AtomicU64,
    fetched: Notify,
}

impl DocumentServer {
    /// Starts the server on 127.0.0.1 with an OS-chosen port, serving `content` with 200.
    pub async fn start(content: impl Into<Bytes>) -> DocumentServer {
        let shared = Arc::new(Shared {
            content: Mutex::new((StatusCode::OK, content.into())),
            fetches: AtomicU64::new(0),
            fetched: Notify::new(),
        });
        let serving = shared.clone();
        let (address, task) = crate::loopback::serve("document server", move |_request| {
            let (status, body) = serving.content.lock().unwrap().clone();
            serving.fetches.fetch_add(1, Ordering::SeqCst);
            serving.fetched.notify_waiters();
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            async move { Ok::<_, Infallible>(response) }
        })
        .await;
        DocumentServer {
            address,
            shared,
            task,
        }
    }

    /// `http://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Serves `content` with 200 from now on.
    pub fn set(&self, content: impl Into<Bytes>) {
        *self.shared.content.lock().unwrap() = (StatusCode::OK, content.into());
    }

    /// Answers every fetch with `status` and an empty body from now on.
    pub fn fail_with(&self, status: StatusCode) {
        *self.shared.content.lock().unwrap() = (status, Bytes::new());
    }

    /// How many `GET`s were answered so far.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::SeqCst)
    }

    /// Waits until more than `seen` fetches were answered (at most `within`); panics otherwise.
    pub async fn wait_for_fetch_after(&self, seen: u64, within: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let fetched = self.shared.fetched.notified();
            if self.fetches() > seen {
                return;
            }
            if tokio::time::timeout_at(deadline, fetched).await.is_err() {
                panic!("no fetch after #{seen} within {within:?}");
            }
        }
    }
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
