//! A thin tap on the connection's bytes, below `h2`.
//!
//! `h2` 0.4 gives a client no way to reset a pushed stream with a chosen
//! error code: the only way to end one is to drop its handles, and `h2` then
//! sends `RST_STREAM(CANCEL)`. RFC 9113 §8.4 asks for `PROTOCOL_ERROR` when a
//! client refuses a promise the server is not authoritative for, so
//! [`TapIo`] rewrites the error code of that one `RST_STREAM` frame on its
//! way out (the two codes differ only in their last byte, so the rewrite
//! keeps every length and offset).
//!
//! `h2` also refuses some promises itself (unsafe method, request body)
//! before the library sees them. To report those, the tap notes every
//! `PUSH_PROMISE` frame read: which stream it was sent on and which stream it
//! promises. The driver later compares that with what `h2` delivered.
//!
//! The tap records the error code of every `RST_STREAM` frame that really
//! went out (after any rewrite), per stream, so refusals and rejections
//! report what the server was sent rather than what was meant to be sent.
//!
//! Finally it notes the lowest last-stream-id of the `GOAWAY` frames read:
//! a request on a stream above it was not processed by the server and may
//! be sent again on a new connection (RFC 9113 §6.8). `h2`'s errors cannot
//! say this exactly (a `GOAWAY` with an error code gives every stream the
//! same error once the connection ends).
//!
//! The tap only looks at frame headers and the first bytes of three frame
//! types; it never buffers, reorders or delays bytes.

use std::collections::{HashMap, HashSet};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use h2::Reason;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// Length of the client connection preface (`PRI * HTTP/2.0...`).
const CLIENT_PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const TYPE_RST_STREAM: u8 = 0x3;
const TYPE_PUSH_PROMISE: u8 = 0x5;
const TYPE_GOAWAY: u8 = 0x7;
const FLAG_PADDED: u8 = 0x8;
const CANCEL: u8 = 0x8;
const PROTOCOL_ERROR: u8 = 0x1;

/// How long to wait for a reset `h2` has queued to be written out before
/// reporting that none was sent.
pub(crate) const RESET_WAIT: Duration = Duration::from_secs(5);

/// Shared state between the I/O wrapper and the request drivers.
#[derive(Clone, Debug)]
pub(crate) struct Tap {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<TapState>,
    /// Ticks whenever a reset has been written or the connection is gone.
    changed: watch::Sender<()>,
}

impl Default for Tap {
    fn default() -> Tap {
        Tap {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                changed: watch::channel(()).0,
            }),
        }
    }
}

#[derive(Debug, Default)]
struct TapState {
    /// Pushed streams whose `RST_STREAM(CANCEL)` must go out as
    /// `PROTOCOL_ERROR`.
    refuse: HashSet<u32>,
    /// Parent stream id -> promised stream ids, in wire order.
    promised: HashMap<u32, Vec<u32>>,
    /// Stream id -> error code of the first `RST_STREAM` written for it, as
    /// it went out on the wire.
    resets: HashMap<u32, Reason>,
    /// The lowest last-stream-id of the `GOAWAY` frames read.
    goaway_last: Option<u32>,
    /// The I/O object is gone: nothing more will be written.
    closed: bool,
}

impl Tap {
    fn lock(&self) -> std::sync::MutexGuard<'_, TapState> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.shared.changed.send_modify(|()| {});
    }

    /// Marks `stream` so that the `RST_STREAM(CANCEL)` `h2` sends for it when
    /// its handles are dropped goes out as `RST_STREAM(PROTOCOL_ERROR)`.
    pub(crate) fn refuse(&self, stream: u32) {
        self.lock().refuse.insert(stream);
    }

    /// The streams promised on `parent` so far, forgetting them.
    pub(crate) fn take_promised(&self, parent: u32) -> Vec<u32> {
        self.lock().promised.remove(&parent).unwrap_or_default()
    }

    /// Whether the server said, with a `GOAWAY` whose last-stream-id is
    /// below `stream`, that it did not process `stream`.
    pub(crate) fn not_processed(&self, stream: u32) -> bool {
        self.lock().goaway_last.is_some_and(|last| stream > last)
    }

    /// Whether the server sent a `GOAWAY`.
    pub(crate) fn went_away(&self) -> bool {
        self.lock().goaway_last.is_some()
    }

    fn is_refused(&self, stream: u32) -> bool {
        self.lock().refuse.contains(&stream)
    }

    /// The error code of the `RST_STREAM` written for `stream`, if one has
    /// gone out.
    pub(crate) fn reset_sent(&self, stream: u32) -> Option<Reason> {
        self.lock().resets.get(&stream).copied()
    }

    /// Whether what was sent for `stream` is settled: `Some(Some(code))`
    /// once its reset went out, `Some(None)` if the connection is gone
    /// without one, `None` while neither.
    pub(crate) fn settled(&self, stream: u32) -> Option<Option<Reason>> {
        let state = self.lock();
        match state.resets.get(&stream) {
            Some(&code) => Some(Some(code)),
            None if state.closed => Some(None),
            None => None,
        }
    }

    /// A receiver that is notified after each reset written and when the
    /// connection is gone.
    pub(crate) fn subscribe(&self) -> watch::Receiver<()> {
        self.shared.changed.subscribe()
    }

    /// Waits up to `limit` for the reset of `stream` to go out; its code, or
    /// `None` if none went out in time (or the connection ended first).
    pub(crate) async fn wait_reset(&self, stream: u32, limit: Duration) -> Option<Reason> {
        let mut changed = self.subscribe();
        let settled = async {
            loop {
                if let Some(sent) = self.settled(stream) {
                    return sent;
                }
                // The sender lives in `self`, so this never fails.
                let _ = changed.changed().await;
            }
        };
        tokio::time::timeout(limit, settled).await.unwrap_or(None)
    }
}

/// What the scanner saw in a chunk of bytes.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// A `PUSH_PROMISE` on `parent` promising `promised`.
    PushPromise { parent: u32, promised: u32 },
    /// The last byte of a `RST_STREAM` error code, at `index` in the chunk;
    /// `code` is the whole code.
    RstCode { stream: u32, code: u32, index: usize },
    /// A `GOAWAY` with this last-stream-id.
    GoAway { last_stream: u32 },
}

/// Incremental HTTP/2 frame scanner over one direction of the byte stream.
#[derive(Clone, Debug, Default)]
struct Scanner {
    /// Bytes still to skip before the first frame (the client preface).
    skip: usize,
    head: [u8; FRAME_HEADER_LEN],
    head_len: usize,
    frame: Option<Frame>,
}

#[derive(Clone, Debug)]
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    len: usize,
    pos: usize,
    prefix: [u8; 5],
}

impl Scanner {
    fn new(skip: usize) -> Scanner {
        Scanner {
            skip,
            ..Scanner::default()
        }
    }

    /// Advances over `buf`, reporting events with indexes into `buf`.
    fn feed(&mut self, buf: &[u8], mut on: impl FnMut(Event)) {
        let mut i = 0;
        while i < buf.len() {
            if self.skip > 0 {
                let n = self.skip.min(buf.len() - i);
                self.skip -= n;
                i += n;
                continue;
            }
            let Some(frame) = &mut self.frame else {
                let n = (FRAME_HEADER_LEN - self.head_len).min(buf.len() - i);
                self.head[self.head_len..self.head_len + n].copy_from_slice(&buf[i..i + n]);
                self.head_len += n;
                i += n;
                if self.head_len == FRAME_HEADER_LEN {
                    self.start_frame();
                }
                continue;
            };
            if frame.pos < frame.prefix.len() {
                frame.prefix[frame.pos] = buf[i];
                frame.pos += 1;
                frame.on_prefix_byte(i, &mut on);
                i += 1;
            } else {
                let n = (frame.len - frame.pos).min(buf.len() - i);
                frame.pos += n;
                i += n;
            }
            if frame.pos >= frame.len {
                self.frame = None;
            }
        }
    }

    fn start_frame(&mut self) {
        let h = self.head;
        self.head_len = 0;
        let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
        let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
        if len > 0 {
            self.frame = Some(Frame {
                kind: h[3],
                flags: h[4],
                stream,
                len,
                pos: 0,
                prefix: [0; 5],
            });
        }
    }
}

impl Frame {
    /// Called after payload byte `self.pos - 1`, found at `index` in the chunk.
    fn on_prefix_byte(&self, index: usize, on: &mut impl FnMut(Event)) {
        let id = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        match self.kind {
            TYPE_RST_STREAM if self.pos == 4 => on(Event::RstCode {
                stream: self.stream,
                code: id(&self.prefix[..4]),
                index,
            }),
            TYPE_GOAWAY if self.pos == 4 => on(Event::GoAway {
                last_stream: id(&self.prefix[..4]) & 0x7fff_ffff,
            }),
            TYPE_PUSH_PROMISE => {
                let padded = self.flags & FLAG_PADDED != 0;
                let end = if padded { 5 } else { 4 };
                if self.pos == end {
                    on(Event::PushPromise {
                        parent: self.stream,
                        promised: id(&self.prefix[end - 4..end]) & 0x7fff_ffff,
                    });
                }
            }
            _ => {}
        }
    }
}

/// The connection's I/O object wrapped with the [`Tap`].
#[derive(Debug)]
pub(crate) struct TapIo<T> {
    inner: T,
    tap: Tap,
    read: Scanner,
    write: Scanner,
}

impl<T> Drop for TapIo<T> {
    /// The connection is gone: resets not written by now never will be.
    fn drop(&mut self) {
        self.tap.lock().closed = true;
        self.tap.notify();
    }
}

impl<T> TapIo<T> {
    /// Wraps the client side of a connection, before the HTTP/2 preface.
    pub(crate) fn new(inner: T, tap: Tap) -> TapIo<T> {
        TapIo {
            inner,
            tap,
            read: Scanner::new(0),
            write: Scanner::new(CLIENT_PREFACE_LEN),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TapIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let tap = &this.tap;
        this.read.feed(&buf.filled()[before..], |event| match event {
            Event::PushPromise { parent, promised } => {
                tap.lock().promised.entry(parent).or_default().push(promised);
            }
            Event::GoAway { last_stream } => {
                let mut state = tap.lock();
                let last = state.goaway_last.map_or(last_stream, |l| l.min(last_stream));
                state.goaway_last = Some(last);
            }
            Event::RstCode { .. } => {}
        });
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TapIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Find the bytes to rewrite without committing the scanner: the
        // inner writer may take only part of `buf`.
        let mut rewrites = Vec::new();
        this.write.clone().feed(buf, |event| {
            if let Event::RstCode { stream, code, index } = event
                && code == u32::from(CANCEL)
                && this.tap.is_refused(stream)
            {
                rewrites.push(index);
            }
        });
        let copy;
        let out = if rewrites.is_empty() {
            buf
        } else {
            let mut rewritten = buf.to_vec();
            for &i in &rewrites {
                rewritten[i] = PROTOCOL_ERROR;
            }
            copy = rewritten;
            &copy[..]
        };
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, out))?;
        let mut sent_any = false;
        let tap = &this.tap;
        this.write.feed(&out[..written], |event| {
            if let Event::RstCode { stream, code, .. } = event {
                // The scanner read the code from `out`: what really went out.
                let mut state = tap.lock();
                state.refuse.remove(&stream);
                state.resets.entry(stream).or_insert(Reason::from(code));
                sent_any = true;
            }
        });
        if sent_any {
            this.tap.notify();
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut v = len.to_be_bytes()[1..].to_vec();
        v.extend([kind, flags]);
        v.extend(stream.to_be_bytes());
        v.extend(payload);
        v
    }

    fn events(scanner: &mut Scanner, chunks: &[&[u8]]) -> Vec<Event> {
        let mut out = Vec::new();
        let mut offset = 0;
        for chunk in chunks {
            scanner.feed(chunk, |e| {
                out.push(match e {
                    Event::RstCode { stream, code, index } => Event::RstCode {
                        stream,
                        code,
                        index: index + offset,
                    },
                    other => other,
                })
            });
            offset += chunk.len();
        }
        out
    }

    fn stream_bytes() -> Vec<u8> {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100])); // SETTINGS
        bytes.extend(frame(0x0, 1, 1, b"hello")); // DATA
        bytes.extend(frame(TYPE_RST_STREAM, 0, 2, &[0, 0, 0, CANCEL]));
        bytes.extend(frame(TYPE_PUSH_PROMISE, 0x4, 1, &[0, 0, 0, 4, 0x82, 0x84]));
        bytes.extend(frame(
            TYPE_PUSH_PROMISE,
            0x4 | FLAG_PADDED,
            3,
            &[1, 0, 0, 0, 6, 0x82, 0],
        ));
        bytes.extend(frame(0x6, 0, 0, &[0; 8])); // PING
        bytes.extend(frame(TYPE_GOAWAY, 0, 0, &[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
        bytes.extend(frame(TYPE_GOAWAY, 0, 0, &[0, 0, 0, 5, 0, 0, 0, 0, b'b', b'y', b'e']));
        bytes
    }

    #[test]
    fn scans_frames_whole_and_split_at_every_byte() {
        let bytes = stream_bytes();
        let rst_index = 24 + 15 + 14 + 12;
        let expected = vec![
            Event::RstCode {
                stream: 2,
                code: 8,
                index: rst_index,
            },
            Event::PushPromise { parent: 1, promised: 4 },
            Event::PushPromise { parent: 3, promised: 6 },
            Event::GoAway {
                last_stream: 0x7fff_ffff,
            },
            Event::GoAway { last_stream: 5 },
        ];
        assert_eq!(bytes[rst_index], CANCEL);
        assert_eq!(events(&mut Scanner::new(24), &[&bytes]), expected);
        for split in 0..bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(events(&mut Scanner::new(24), &[a, b]), expected, "split {split}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(events(&mut Scanner::new(24), &singles), expected);
    }

    /// A writer that accepts at most `max` bytes per call.
    struct Trickle {
        out: Vec<u8>,
        max: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.max);
            self.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn write_through(refuse: &[u32], max: usize, bytes: &[u8]) -> (Vec<u8>, Tap) {
        use tokio::io::AsyncWriteExt;
        let tap = Tap::default();
        for &s in refuse {
            tap.refuse(s);
        }
        let mut io = TapIo::new(Trickle { out: Vec::new(), max }, tap.clone());
        io.write_all(bytes).await.unwrap();
        for &s in refuse {
            // Forgotten once its reset went out; kept while none did.
            assert_eq!(tap.is_refused(s), s != 2, "stream {s}");
        }
        (std::mem::take(&mut io.inner.out), tap)
    }

    #[tokio::test]
    async fn rewrites_cancel_only_for_refused_streams_across_partial_writes() {
        let bytes = stream_bytes();
        let rst_index = 24 + 15 + 14 + 12;
        for max in [1, 2, 3, 7, 64, 4096] {
            let (out, tap) = write_through(&[2], max, &bytes).await;
            assert_eq!(out.len(), bytes.len());
            assert_eq!(out[rst_index], PROTOCOL_ERROR, "max {max}");
            let mut rest = out.clone();
            rest[rst_index] = CANCEL;
            assert_eq!(rest, bytes, "only that byte changes (max {max})");
            assert_eq!(tap.reset_sent(2), Some(Reason::PROTOCOL_ERROR), "max {max}");

            let (untouched, tap) = write_through(&[4], max, &bytes).await;
            assert_eq!(untouched, bytes, "max {max}");
            assert_eq!(tap.reset_sent(2), Some(Reason::CANCEL), "max {max}");
            assert_eq!(tap.reset_sent(4), None, "max {max}");
        }
    }

    #[tokio::test]
    async fn waiting_for_a_reset_ends_when_it_is_written_or_the_connection_goes() {
        use tokio::io::AsyncWriteExt;
        let bytes = stream_bytes();
        let tap = Tap::default();
        tap.refuse(2);
        let mut io = TapIo::new(
            Trickle {
                out: Vec::new(),
                max: 5,
            },
            tap.clone(),
        );
        let long = Duration::from_secs(30);
        let (sent, ()) = tokio::join!(tap.wait_reset(2, long), async {
            tokio::task::yield_now().await;
            io.write_all(&bytes).await.unwrap();
        });
        assert_eq!(sent, Some(Reason::PROTOCOL_ERROR));
        assert_eq!(tap.settled(4), None, "still open, nothing sent");
        let (sent, ()) = tokio::join!(tap.wait_reset(4, long), async {
            tokio::task::yield_now().await;
            drop(io);
        });
        assert_eq!(sent, None);
        assert_eq!(tap.settled(4), Some(None));
        assert_eq!(tap.settled(2), Some(Some(Reason::PROTOCOL_ERROR)));
    }

    #[tokio::test]
    async fn records_promises_and_the_lowest_goaway_read() {
        use tokio::io::AsyncReadExt;
        let bytes = stream_bytes()[24..].to_vec();
        let tap = Tap::default();
        let mut io = TapIo::new(&bytes[..], tap.clone());
        let mut sink = Vec::new();
        io.read_to_end(&mut sink).await.unwrap();
        assert_eq!(tap.take_promised(1), vec![4]);
        assert_eq!(tap.take_promised(3), vec![6]);
        assert!(tap.take_promised(1).is_empty());
        // The graceful GOAWAY (2^31-1), then the real one (5).
        assert!(!tap.not_processed(5));
        assert!(tap.not_processed(7));
    }
}
