//! `wasi:io` for plugins called synchronously: the functions wasmtime-wasi links as `async`
//! (blocking reads, writes and flushes, `poll`, and the stream destructors) linked as plain
//! functions that complete at once.
//!
//! Every Rust component imports them (the standard library's stdout, stderr and stdin), and a
//! single `async` import makes wasmtime run every call of the component on a fiber. A plugin's
//! WASI context has no real I/O — stdin is empty, stdout and stderr discard what they are
//! given — so these operations never have to wait. Plugins that can wait (clock subscriptions,
//! the shared store, files or sockets) are not linked here: [`super::compile`] keeps them on the
//! async path. Should an operation here find its stream not ready all the same, the call
//! fails with a trap rather than blocking the worker thread.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::io::poll::{Host as AsyncPoll, HostPollable as AsyncPollable};
use wasmtime_wasi::p2::bindings::io::streams::{
    HostInputStream as AsyncInputStream, HostOutputStream as AsyncOutputStream,
};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, StreamError, StreamResult};

use super::host::HostState;

/// The error of an operation that would have had to wait.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` would block, and this plugin is called synchronously (its WASI context has no I/O \
     that can wait)"
)]
pub(crate) struct WouldBlock(&'static str);

/// Replaces, in `linker` (already holding wasmtime-wasi's async `wasi:io`), the async
/// functions of `wasi:io/poll` and `wasi:io/streams` with ones that complete at once.
pub(super) fn shadow_async_io(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    poll::add_to_linker::<HostState, NonBlocking>(linker, |state| NonBlockingIo(state.table()))?;
    streams::add_to_linker::<HostState, NonBlocking>(linker, |state| NonBlockingIo(state.table()))?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Marks the [`NonBlockingIo`] view for the generated `add_to_linker` functions.
struct NonBlocking;

impl HasData for NonBlocking {
    type Data<'a> = NonBlockingIo<'a>;
}

/// A store's resource table, with `wasi:io` operations that never wait.
struct NonBlockingIo<'a>(&'a mut ResourceTable);

/// Drives `future` once: its value if it is ready, or a [`WouldBlock`] trap.
pub(super) fn at_once<T>(
    operation: &'static str,
    future: impl Future<Output = T>,
) -> wasmtime::Result<T> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => Ok(value),
        Poll::Pending => Err(WouldBlock(operation).into()),
    }
}

/// [`at_once`] for a stream operation, whose trap travels as a [`StreamError`].
fn stream_at_once<T>(
    operation: &'static str,
    future: impl Future<Output = StreamResult<T>>,
) -> StreamResult<T> {
    at_once(operation, future).map_err(StreamError::Trap)?
}

impl poll::Host for NonBlockingIo<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        at_once("poll", AsyncPoll::poll(self.0, pollables))?
    }
}

impl poll::HostPollable for NonBlockingIo<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        at_once("pollable.ready", AsyncPollable::ready(self.0, pollable))?
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        at_once("pollable.block", AsyncPollable::block(self.0, pollable))?
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        AsyncPollable::drop(self.0, pollable)
    }
}

impl streams::Host for NonBlockingIo<'_> {
    fn convert_stream_error(
        &mut self,
        error: StreamError,
    ) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.0, error)
    }
}

impl streams::HostOutputStream for NonBlockingIo<'_> {
    fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        at_once(
            "drop output-stream",
            AsyncOutputStream::drop(self.0, stream),
        )?
    }

    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.0, stream)
    }

    fn write(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        streams::HostOutputStream::write(self.0, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        let write = AsyncOutputStream::blocking_write_and_flush(self.0, stream, bytes);
        stream_at_once("blocking-write-and-flush", write)
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        let write = AsyncOutputStream::blocking_write_zeroes_and_flush(self.0, stream, len);
        stream_at_once("blocking-write-zeroes-and-flush", write)
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynOutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.0, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.0, stream, len)
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.0, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        stream_at_once(
            "blocking-flush",
            AsyncOutputStream::blocking_flush(self.0, stream),
        )
    }

    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.0, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        let splice = AsyncOutputStream::blocking_splice(self.0, dst, src, len);
        stream_at_once("blocking-splice", splice)
    }
}

impl streams::HostInputStream for NonBlockingIo<'_> {
    fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        at_once("drop input-stream", AsyncInputStream::drop(self.0, stream))?
    }

    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.0, stream, len)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        stream_at_once(
            "blocking-read",
            AsyncInputStream::blocking_read(self.0, stream, len),
        )
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.0, stream, len)
    }

    fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        stream_at_once(
            "blocking-skip",
            AsyncInputStream::blocking_skip(self.0, stream, len),
        )
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynInputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.0, stream)
    }
}
