//! Telling a failed try's cause apart: a streamed request body that fails (the client aborted
//! its upload, or it went over `max_body_bytes`) makes the try fail too, and neither hyper's
//! HTTP/1.1 nor its HTTP/2 client says reliably that the body was the cause. The body says so
//! itself here, so the client gets 413 or 400 and the target is not blamed.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::body::{self, BoxError, GatewayBody};

/// How a streamed request body failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// It went over the body limit.
    OverLimit,
    /// Reading it from the client failed.
    Read,
}

/// Where a watched body records its failure.
#[derive(Debug, Default)]
pub(super) struct BodyFault(OnceLock<Fault>);

impl BodyFault {
    /// `body`, watched: its first error is recorded in the returned fault.
    pub(super) fn watch(body: GatewayBody) -> (GatewayBody, Arc<BodyFault>) {
        let fault = Arc::new(BodyFault::default());
        let watched = Watched {
            inner: body,
            fault: fault.clone(),
        };
        (body::stream(watched), fault)
    }

    /// The failure, if the body failed.
    pub(super) fn get(&self) -> Option<Fault> {
        self.0.get().copied()
    }
}

struct Watched {
    inner: GatewayBody,
    fault: Arc<BodyFault>,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(error))) = &frame {
            let fault = if body::exceeded_limit(&**error) {
                Fault::OverLimit
            } else {
                Fault::Read
            };
            let _ = self.fault.0.set(fault);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_body_over_its_limit_records_it() {
        let limited = body::stream_limited(http_body_util::Full::new(Bytes::from("123456")), 3);
        let (watched, fault) = BodyFault::watch(limited);
        assert!(watched.collect().await.is_err());
        assert_eq!(fault.get(), Some(Fault::OverLimit));
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_records_nothing() {
        let (watched, fault) = BodyFault::watch(body::full("ok"));
        assert_eq!(watched.collect().await.unwrap().to_bytes(), "ok");
        assert_eq!(fault.get(), None);
    }
}
