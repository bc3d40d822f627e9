//! Body types: what the gateway sends and receives, buffering under a cap, and a wrapper that
//! tells when the response has been sent (so the log stage runs after it).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited};
use tokio::sync::oneshot;

/// The error type of gateway bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every request the gateway sends upstream and every response it sends back.
pub type GatewayBody = UnsyncBoxBody<Bytes, BoxError>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> GatewayBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub fn empty() -> GatewayBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Streams `body` through without buffering it.
pub fn stream<B>(body: B) -> GatewayBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// Streams `body` through without buffering it, failing it as soon as more than `limit`
/// bytes have passed (see [`exceeded_limit`]).
pub fn stream_limited<B>(body: B, limit: u64) -> GatewayBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Limited::new(body, limit).boxed_unsync()
}

/// Whether `error`, or an error it was caused by, is a body [`stream_limited`] cut off.
pub fn exceeded_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Why a body could not be buffered.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    /// The body is larger than the cap.
    #[error("body exceeds {0} bytes")]
    TooLarge(u64),
    /// Reading failed.
    #[error("{0}")]
    Read(String),
}

/// Reads a whole body, refusing it as soon as it grows past `limit` bytes (the rest is never
/// read, so an oversized body costs at most `limit` bytes of memory).
pub async fn buffer<B>(body: B, limit: u64) -> Result<Bytes, BufferError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    if body.size_hint().lower() > limit {
        return Err(BufferError::TooLarge(limit));
    }
    let limited = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(BufferError::TooLarge(limit))
        }
        Err(error) => Err(BufferError::Read(error.to_string())),
    }
}

/// A response body that reports, when dropped, how many body bytes it delivered — that is,
/// when the response is done (fully sent, or the client went away).
pub struct NotifyWhenDone {
    inner: GatewayBody,
    sent_bytes: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl NotifyWhenDone {
    /// Wraps `inner`; the receiver gets the number of body bytes sent once the returned body is
    /// dropped.
    pub fn new(inner: GatewayBody) -> (Self, oneshot::Receiver<u64>) {
        let (sender, receiver) = oneshot::channel();
        let body = NotifyWhenDone {
            inner,
            sent_bytes: 0,
            done: Some(sender),
        };
        (body, receiver)
    }

    /// Wraps `inner` when nobody needs to know when it is done (no channel is allocated).
    pub fn unobserved(inner: GatewayBody) -> Self {
        NotifyWhenDone {
            inner,
            sent_bytes: 0,
            done: None,
        }
    }
}

impl Drop for NotifyWhenDone {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(self.sent_bytes);
        }
    }
}

impl Body for NotifyWhenDone {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent_bytes += data.len() as u64;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
