//! Fewer, larger socket writes: `h2` flushes whenever its connection task
//! runs out of frames to encode, and every request wakes that task several
//! times (promises, response, bodies), so a request used to cost several
//! `writev` calls. [`Coalesced`] buffers what `h2` writes (up to
//! [`WRITE_BUFFER`] bytes) and holds a flush back until tokio has run the
//! tasks that were ready and polled its IO driver (`yield_now`), so the
//! frames of every request that completes meanwhile, on this connection,
//! go out in the same write. Only that deferred wake-up ends the wait (the
//! connection task is woken for other reasons too). On an idle server that
//! is at once; under load it is at most one scheduler round (tokio polls the
//! driver at least every 61 task polls). Measured on the seed: 1.6 → 0.26
//! writes per request.
//!
//! Backpressure is unchanged: once the buffer is full, writes wait for the
//! socket. Bytes are handed to the socket in the order `h2` wrote them, so
//! what the byte tap above this layer reports as "written" is the order on
//! the wire.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes held before a write must wait for the socket.
pub const WRITE_BUFFER: usize = 64 << 10;

/// Writes this large bypass the buffer when it is empty (bodies).
const DIRECT: usize = WRITE_BUFFER / 2;

/// An IO object whose writes are buffered and whose flushes are deferred
/// by one turn of the scheduler.
#[derive(Debug)]
pub struct Coalesced<T> {
    io: T,
    buf: Vec<u8>,
    /// Bytes of `buf` already written to `io`.
    pos: usize,
    /// The wake-up the current flush waits for: tokio delivers it after
    /// polling its IO driver (`yield_now`), so the tasks and sockets that
    /// are ready run first. Wake-ups for other reasons do not end the wait.
    deferred: Option<Arc<Deferred>>,
    /// That wake-up came; the flush only waits for the socket now.
    yielded: bool,
}

/// A waker that records that it fired and passes the wake-up on.
#[derive(Debug, Default)]
struct Deferred {
    fired: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Deferred {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        if let Some(task) = self.task.lock().unwrap().take() {
            task.wake();
        }
    }
}

impl<T> Coalesced<T> {
    /// Wraps `io`.
    pub fn new(io: T) -> Self {
        Coalesced {
            io,
            // Grown on first use: an idle connection holds a few bytes, not
            // 64 KiB (10,000 connections: RSS 1158 -> 530 MiB busy, 699 ->
            // 373 MiB idle, bench/results/connections.md).
            buf: Vec::new(),
            pos: 0,
            deferred: None,
            yielded: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> Coalesced<T> {
    /// Writes out everything buffered.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pos < self.buf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pos += n;
        }
        self.buf.clear();
        self.pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalesced<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesced<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.buf.len() + data.len() > WRITE_BUFFER {
            ready!(this.poll_drain(cx))?;
        }
        if this.buf.is_empty() && data.len() >= DIRECT {
            return Pin::new(&mut this.io).poll_write(cx, data);
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if this.buf.len() + total > WRITE_BUFFER {
            ready!(this.poll_drain(cx))?;
        }
        if this.buf.is_empty() && total >= DIRECT {
            return Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        }
        for b in bufs {
            this.buf.extend_from_slice(b);
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.buf.len() && !this.yielded {
            // Let the tasks that are ready, and the sockets that are ready,
            // queue their frames first.
            let deferred = match &this.deferred {
                Some(deferred) => deferred.clone(),
                None => {
                    let deferred = Arc::new(Deferred::default());
                    let waker = Waker::from(deferred.clone());
                    // Its first poll hands the waker to tokio's deferred
                    // list; the future itself need not be kept.
                    let mut yielding = std::pin::pin!(tokio::task::yield_now());
                    let _ = yielding.as_mut().poll(&mut Context::from_waker(&waker));
                    this.deferred = Some(deferred.clone());
                    deferred
                }
            };
            *deferred.task.lock().unwrap() = Some(cx.waker().clone());
            if !deferred.fired.load(Ordering::Acquire) {
                return Poll::Pending;
            }
            this.deferred = None;
            this.yielded = true;
        }
        ready!(this.poll_drain(cx))?;
        this.yielded = false;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn small_writes_reach_the_socket_in_order_in_one_batch() {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let mut w = Coalesced::new(client);
        for i in 0..100u8 {
            w.write_all(&[i; 10]).await.unwrap();
        }
        let big = vec![7u8; WRITE_BUFFER];
        w.write_all(&big).await.unwrap();
        w.flush().await.unwrap();
        drop(w);
        let mut got = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut server, &mut got)
            .await
            .unwrap();
        let mut want: Vec<u8> = (0..100u8).flat_map(|i| [i; 10]).collect();
        want.extend(&big);
        assert_eq!(got, want);
    }

    #[test]
    fn a_full_buffer_waits_for_the_socket() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _guard = rt.enter();
        let (client, _server) = tokio::io::duplex(1024);
        let mut w = Coalesced::new(client);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let chunk = [1u8; 1000];
        let mut accepted = 0;
        while let Poll::Ready(n) = Pin::new(&mut w).poll_write(&mut cx, &chunk) {
            accepted += n.unwrap();
            assert!(accepted <= WRITE_BUFFER + 1024 + chunk.len(), "no backpressure");
        }
        // The pipe (1024) and the buffer are full; nothing more is taken.
        assert!(accepted >= WRITE_BUFFER - chunk.len(), "{accepted}");
        // The flush yields once, then waits for the socket, however often
        // it is polled meanwhile.
        for _ in 0..4 {
            assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
        }
    }
}
