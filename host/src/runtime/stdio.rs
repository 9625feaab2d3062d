//! Guest stdout/stderr, forwarded line by line to the host's log and tagged
//! with the tenant and the connection and stream the guest is serving. Each
//! tenant's lines share a rate limit ([`GuestLogLimit`]), so a chatty guest
//! cannot flood the log; what it drops is counted and said.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Longest line kept; the rest of an over-long line is cut and marked.
const MAX_LINE: usize = 4096;

/// Which guest stream a line came from.
#[derive(Clone, Copy, Debug)]
pub enum Channel {
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
}

/// Guest lines per second a tenant may log (all its instances together).
pub const GUEST_LINES_PER_SECOND: u32 = 200;
/// Lines a tenant may log at once before the rate applies.
pub const GUEST_LINES_BURST: u32 = 400;

/// One tenant's budget of guest log lines, shared by its instances.
#[derive(Debug)]
pub struct GuestLogLimit {
    pub(crate) tenant: Arc<str>,
    limiter: governor::DefaultDirectRateLimiter,
    dropped: std::sync::atomic::AtomicU64,
}

impl GuestLogLimit {
    /// [`GUEST_LINES_PER_SECOND`], bursts of [`GUEST_LINES_BURST`].
    pub fn new(tenant: Arc<str>) -> Arc<Self> {
        let quota = governor::Quota::per_second(std::num::NonZeroU32::new(GUEST_LINES_PER_SECOND).unwrap())
            .allow_burst(std::num::NonZeroU32::new(GUEST_LINES_BURST).unwrap());
        Arc::new(GuestLogLimit {
            tenant,
            limiter: governor::RateLimiter::direct(quota),
            dropped: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Whether one more line may be logged; the first line let through after
    /// some were dropped says how many.
    fn admit(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.limiter.check().is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                target: "guest",
                "tenant {}: {dropped} guest log line(s) dropped (more than {GUEST_LINES_PER_SECOND}/s)",
                self.tenant
            );
        }
        true
    }
}

/// A WASI output stream that logs each complete line with `tracing`.
#[derive(Clone)]
pub struct LogStream {
    inner: Arc<Mutex<LineBuffer>>,
}

struct LineBuffer {
    channel: Channel,
    tag: Arc<str>,
    limit: Arc<GuestLogLimit>,
    buf: Vec<u8>,
    truncated: bool,
}

impl LogStream {
    /// A stream whose lines are logged with `tag` (e.g. `conn=3 stream=1 GET /`)
    /// and the tenant of `limit`, within its rate.
    pub fn new(channel: Channel, tag: Arc<str>, limit: Arc<GuestLogLimit>) -> Self {
        LogStream {
            inner: Arc::new(Mutex::new(LineBuffer {
                channel,
                tag,
                limit,
                buf: Vec::new(),
                truncated: false,
            })),
        }
    }
}

impl LogStream {
    /// Tags the lines from now on with `tag` (a kept instance's next
    /// request); a line left unfinished goes out first, under the old tag.
    pub fn retag(&self, tag: Arc<str>) {
        let mut buffer = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !buffer.buf.is_empty() {
            buffer.emit();
        }
        buffer.tag = tag;
    }
}

impl LineBuffer {
    fn write(&mut self, data: &[u8]) {
        for &b in data {
            if b == b'\n' {
                self.emit();
            } else if self.buf.len() < MAX_LINE {
                self.buf.push(b);
            } else {
                self.truncated = true;
            }
        }
    }

    fn emit(&mut self) {
        if self.limit.admit() {
            let line = String::from_utf8_lossy(&self.buf);
            let line = line.trim_end_matches('\r');
            let cut = if self.truncated { " [line truncated]" } else { "" };
            let tenant = &self.limit.tenant;
            match self.channel {
                // The tenant leads (not a trailing field): a guest's line
                // ends the log line exactly as the guest wrote it.
                Channel::Stdout => tracing::info!(target: "guest", "tenant={tenant} {} stdout: {line}{cut}", self.tag),
                Channel::Stderr => tracing::warn!(target: "guest", "tenant={tenant} {} stderr: {line}{cut}", self.tag),
            }
        }
        self.buf.clear();
        self.truncated = false;
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.emit();
        }
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    /// A synchronous stream: writing a line only formats a log record, so
    /// there is no need for wasmtime-wasi's default adapter, which spawns a
    /// tokio task per stream and wakes it for every write.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

/// Largest write the guest is offered at once; lines are buffered anyway.
const WRITE_PERMIT: usize = 64 << 10;

impl OutputStream for LogStream {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.inner.lock().unwrap().write(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogStream {
    async fn ready(&mut self) {}
}

impl AsyncWrite for LogStream {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        self.inner.lock().unwrap().write(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
