//! A tap on a connection's bytes that spots two frame kinds `h2` keeps to
//! itself.
//!
//! - Read side: the client's RST_STREAM frames. `h2` drops a reset that
//!   arrives after a pushed stream has finished, yet an operator wants to
//!   know which pushes clients reject.
//! - Read side: the client's SETTINGS_ENABLE_PUSH, so the host knows from
//!   the protocol itself (not from the wording of an `h2` error) whether the
//!   client accepts pushes.
//! - Write side: the PUSH_PROMISE frames actually written, so promises from
//!   different parent streams go out in promised-stream-id order (see
//!   [`ConnShared::wait_promise_written`]).
//!
//! The tap parses only frame headers (9 bytes), the first 4 payload bytes
//! of RST_STREAM and PUSH_PROMISE, and the 6-byte entries of SETTINGS.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::http2::conn::ConnShared;

/// Length of the client connection preface.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
/// RST_STREAM frame type.
pub const RST_STREAM: u8 = 0x3;
/// PUSH_PROMISE frame type.
pub const PUSH_PROMISE: u8 = 0x5;
/// HEADERS frame type.
pub const HEADERS: u8 = 0x1;
/// DATA frame type.
pub const DATA: u8 = 0x0;
/// The END_STREAM flag (DATA, HEADERS).
pub const END_STREAM: u8 = 0x1;
/// SETTINGS frame type.
pub const SETTINGS: u8 = 0x4;
/// The SETTINGS_ENABLE_PUSH parameter.
pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
const PADDED: u8 = 0x8;
const ACK: u8 = 0x1;
const SETTING_LEN: usize = 6;

/// A frame the tap reports: its type, stream and first payload word (the
/// error code of RST_STREAM, the promised stream id of PUSH_PROMISE; the
/// flags of HEADERS and of DATA, which is reported only with END_STREAM). A
/// SETTINGS frame is reported once per SETTINGS_ENABLE_PUSH entry it carries,
/// with the entry's value as `word`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Frame type.
    pub kind: u8,
    /// Stream identifier.
    pub stream: u32,
    /// The first 32-bit word of the payload (after padding length, if any).
    pub word: u32,
}

#[derive(Debug)]
enum State {
    Skip {
        left: usize,
    },
    Header {
        buf: [u8; FRAME_HEADER_LEN],
        filled: usize,
    },
    Word {
        kind: u8,
        stream: u32,
        pad: bool,
        buf: [u8; 5],
        filled: usize,
        left: usize,
    },
    /// Inside a SETTINGS payload: the current 6-byte entry.
    Settings {
        buf: [u8; SETTING_LEN],
        filled: usize,
        left: usize,
    },
}

impl State {
    fn header() -> Self {
        State::Header {
            buf: [0; FRAME_HEADER_LEN],
            filled: 0,
        }
    }
}

/// Parses one direction of an HTTP/2 byte stream, reporting RST_STREAM and
/// PUSH_PROMISE frames.
#[derive(Debug)]
pub struct FrameTap {
    state: State,
}

impl FrameTap {
    /// A tap for the client-to-server direction (starts with the preface).
    pub fn client_to_server() -> Self {
        FrameTap {
            state: State::Skip { left: PREFACE_LEN },
        }
    }

    /// A tap for the server-to-client direction (frames from the first byte).
    pub fn server_to_client() -> Self {
        FrameTap { state: State::header() }
    }

    /// Feeds bytes in order; calls `on_frame` per reported frame (HEADERS when
    /// its header is complete, RST_STREAM and PUSH_PROMISE when their first
    /// payload word is). If `on_frame` returns `false` for an RST_STREAM or a
    /// PUSH_PROMISE, the byte that completed it is not consumed, so the frame
    /// stays incomplete for whoever reads these bytes next; feeding again from
    /// that byte reports it again. Returns how many bytes were consumed.
    pub fn feed(&mut self, data: &[u8], on_frame: &mut impl FnMut(Seen) -> bool) -> usize {
        let total = data.len();
        let mut data = data;
        while !data.is_empty() {
            match &mut self.state {
                State::Skip { left } => {
                    let n = (*left).min(data.len());
                    *left -= n;
                    data = &data[n..];
                    if *left == 0 {
                        self.state = State::header();
                    }
                }
                State::Header { buf, filled } => {
                    let n = (FRAME_HEADER_LEN - *filled).min(data.len());
                    buf[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    data = &data[n..];
                    if *filled == FRAME_HEADER_LEN {
                        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
                        let (kind, flags) = (buf[3], buf[4]);
                        let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                        let pad = kind == PUSH_PROMISE && flags & PADDED != 0;
                        let need = 4 + usize::from(pad);
                        if kind == HEADERS || kind == DATA && flags & END_STREAM != 0 {
                            on_frame(Seen {
                                kind,
                                stream,
                                word: u32::from(flags),
                            });
                        }
                        self.state = if kind == SETTINGS && flags & ACK == 0 && len >= SETTING_LEN {
                            State::Settings {
                                buf: [0; SETTING_LEN],
                                filled: 0,
                                left: len,
                            }
                        } else if (kind == RST_STREAM || kind == PUSH_PROMISE) && len >= need {
                            State::Word {
                                kind,
                                stream,
                                pad,
                                buf: [0; 5],
                                filled: 0,
                                left: len,
                            }
                        } else if len == 0 {
                            State::header()
                        } else {
                            State::Skip { left: len }
                        };
                    }
                }
                State::Word {
                    kind,
                    stream,
                    pad,
                    buf,
                    filled,
                    left,
                } => {
                    let need = 4 + usize::from(*pad);
                    let n = (need - *filled).min(data.len());
                    buf[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    *left -= n;
                    data = &data[n..];
                    if *filled == need {
                        let w = &buf[usize::from(*pad)..need];
                        let word = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
                        let word = if *kind == PUSH_PROMISE {
                            word & 0x7fff_ffff
                        } else {
                            word
                        };
                        let go_on = on_frame(Seen {
                            kind: *kind,
                            stream: *stream,
                            word,
                        });
                        if !go_on {
                            *filled -= 1;
                            *left += 1;
                            return total - data.len() - 1;
                        }
                        self.state = if *left == 0 {
                            State::header()
                        } else {
                            State::Skip { left: *left }
                        };
                    }
                }
                State::Settings { buf, filled, left } => {
                    let n = (SETTING_LEN - *filled).min(data.len());
                    buf[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    *left -= n;
                    data = &data[n..];
                    if *filled == SETTING_LEN {
                        let id = u16::from_be_bytes([buf[0], buf[1]]);
                        if id == SETTINGS_ENABLE_PUSH {
                            let word = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
                            on_frame(Seen {
                                kind: SETTINGS,
                                stream: 0,
                                word,
                            });
                        }
                        *filled = 0;
                        if *left < SETTING_LEN {
                            // A malformed length (not a multiple of 6) is h2's
                            // to reject; skip what is left.
                            self.state = if *left == 0 {
                                State::header()
                            } else {
                                State::Skip { left: *left }
                            };
                        }
                    }
                }
            }
        }
        total
    }
}

/// An IO object whose reads and writes go through a [`FrameTap`] each.
///
/// On the read side it can hold back the last byte of a client RST_STREAM
/// for a pushed stream whose response HEADERS `h2` has queued but not yet
/// written: `h2` 0.4.20 treats a reset of such a stream ("pending open") as a
/// frame on an idle stream and kills the whole connection with GOAWAY
/// PROTOCOL_ERROR. The byte is released once the write side has seen those
/// HEADERS go out (or after [`HOLD_LIMIT`], so nothing can wait forever).
pub struct Tapped<T> {
    io: T,
    read_tap: FrameTap,
    write_tap: FrameTap,
    conn: Arc<ConnShared>,
    /// Bytes read from the socket that `h2` has not been given yet.
    held: Vec<u8>,
    /// Deadline for the current hold.
    hold_until: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The longest a client RST_STREAM is held back.
pub const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

impl<T> Tapped<T> {
    /// Wraps a server-side `io`, reporting to `conn`.
    pub fn new(io: T, conn: Arc<ConnShared>) -> Self {
        Tapped {
            io,
            read_tap: FrameTap::client_to_server(),
            write_tap: FrameTap::server_to_client(),
            conn,
            held: Vec::new(),
            hold_until: None,
        }
    }

    fn wrote(&mut self, data: &[u8]) {
        let conn = &self.conn;
        self.write_tap.feed(data, &mut |seen| {
            if seen.stream % 2 == 0 && seen.stream != 0 {
                match seen.kind {
                    HEADERS => {
                        conn.on_push_headers_written(seen.stream);
                        if seen.word & u32::from(END_STREAM) != 0 {
                            conn.on_push_ended(seen.stream);
                        }
                    }
                    DATA | RST_STREAM => conn.on_push_ended(seen.stream),
                    _ => {}
                }
            } else if seen.kind == PUSH_PROMISE {
                conn.on_promise_written(seen.word);
            }
            true
        });
    }

    /// Feeds freshly read `data` to the read tap; returns how many bytes may
    /// go to `h2` now (less than `data.len()` while a reset is held).
    fn admit(&mut self, data: &[u8], cx: &mut Context<'_>) -> usize {
        let forced = match &mut self.hold_until {
            Some(sleep) => sleep.as_mut().poll(cx).is_ready(),
            None => false,
        };
        let conn = &self.conn;
        let mut held = None;
        let n = self.read_tap.feed(data, &mut |seen| {
            if seen.kind == SETTINGS {
                conn.set_client_enable_push(seen.word);
                return true;
            }
            if seen.kind != RST_STREAM {
                return true;
            }
            if !forced && conn.must_hold_reset(seen.stream, cx.waker()) {
                held = Some(seen.stream);
                return false;
            }
            conn.on_client_reset(seen.stream, seen.word);
            true
        });
        if let Some(stream) = held {
            if self.hold_until.is_none() {
                conn.note_held_reset(stream);
                let mut sleep = Box::pin(tokio::time::sleep(HOLD_LIMIT));
                let _ = sleep.as_mut().poll(cx);
                self.hold_until = Some(sleep);
            }
        } else {
            if forced {
                tracing::warn!(
                    "conn={}: released a client reset after holding it {HOLD_LIMIT:?}",
                    conn.id
                );
            }
            self.hold_until = None;
        }
        n
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tapped<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.held.is_empty() {
            let held = std::mem::take(&mut this.held);
            let take = held.len().min(buf.remaining());
            let n = this.admit(&held[..take], cx);
            buf.put_slice(&held[..n]);
            this.held = held[n..].to_vec();
            return if n == 0 { Poll::Pending } else { Poll::Ready(Ok(())) };
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let fresh = buf.filled()[before..].to_vec();
            if fresh.is_empty() {
                return res; // end of stream
            }
            let n = this.admit(&fresh, cx);
            if n < fresh.len() {
                this.held = fresh[n..].to_vec();
                buf.set_filled(before + n);
                if n == 0 {
                    return Poll::Pending;
                }
            }
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tapped<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.io).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = res {
            self.wrote(&data[..n]);
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(mut n)) = res {
            for buf in bufs {
                let take = n.min(buf.len());
                self.wrote(&buf[..take]);
                n -= take;
                if n == 0 {
                    break;
                }
            }
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.push(kind);
        f.push(0);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// What a client-to-server tap reports for `bytes` fed in chunks of
    /// every size, with that size.
    fn seen_at_every_split(bytes: &[u8]) -> impl Iterator<Item = (usize, Vec<(u8, u32, u32)>)> + '_ {
        (1..bytes.len()).map(move |split| {
            let mut tap = FrameTap::client_to_server();
            let mut seen = Vec::new();
            for chunk in bytes.chunks(split) {
                tap.feed(chunk, &mut |s| {
                    seen.push((s.kind, s.stream, s.word));
                    true
                });
            }
            (split, seen)
        })
    }

    #[test]
    fn finds_resets_and_promises_across_split_reads() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(0x4, 0, &[0, 2, 0, 0, 0, 0]));
        bytes.extend(frame(0x1, 1, &[1, 2, 3]));
        bytes.extend(frame(RST_STREAM, 4, &8u32.to_be_bytes()));
        bytes.extend(frame(0x8, 0, &[0, 0, 1, 0]));
        bytes.extend(frame(RST_STREAM, 6, &0u32.to_be_bytes()));
        bytes.extend(frame(PUSH_PROMISE, 1, &[0, 0, 0, 8, 0x82, 0x84]));
        for (split, seen) in seen_at_every_split(&bytes) {
            assert_eq!(
                seen,
                vec![
                    (SETTINGS, 0, 0),
                    (HEADERS, 1, 0),
                    (RST_STREAM, 4, 8),
                    (RST_STREAM, 6, 0),
                    (PUSH_PROMISE, 1, 8)
                ],
                "chunk size {split}"
            );
        }
        let mut tap = FrameTap::server_to_client();
        let mut seen = Vec::new();
        tap.feed(&frame(PUSH_PROMISE, 3, &[0, 0, 0, 2, 0x82]), &mut |s| {
            seen.push(s.word);
            true
        });
        assert_eq!(seen, vec![2]);
    }

    #[test]
    fn reads_enable_push_from_settings_across_split_reads() {
        let setting = |id: u16, value: u32| {
            let mut e = id.to_be_bytes().to_vec();
            e.extend(value.to_be_bytes());
            e
        };
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        let mut first = setting(0x3, 100);
        first.extend(setting(SETTINGS_ENABLE_PUSH, 1));
        bytes.extend(frame(SETTINGS, 0, &first));
        bytes.extend(frame(0x1, 1, &[0x82, 0x84]));
        // An ACK (flags 0x1) carries nothing; a later SETTINGS turns push off.
        let mut ack = frame(SETTINGS, 0, &[]);
        ack[4] = ACK;
        bytes.extend(ack);
        let mut later = setting(0x4, 65535);
        later.extend(setting(SETTINGS_ENABLE_PUSH, 0));
        later.extend(setting(0x6, 16384));
        bytes.extend(frame(SETTINGS, 0, &later));
        bytes.extend(frame(RST_STREAM, 2, &8u32.to_be_bytes()));
        for (split, seen) in seen_at_every_split(&bytes) {
            assert_eq!(
                seen,
                vec![(SETTINGS, 0, 1), (HEADERS, 1, 0), (SETTINGS, 0, 0), (RST_STREAM, 2, 8)],
                "chunk size {split}"
            );
        }
    }

    #[test]
    fn a_held_reset_keeps_its_last_byte_until_released() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(RST_STREAM, 2, &8u32.to_be_bytes()));
        bytes.extend(frame(0x8, 0, &[0, 0, 1, 0]));
        let mut tap = FrameTap::client_to_server();
        let n = tap.feed(&bytes, &mut |s| s.kind != RST_STREAM);
        assert_eq!(n, 24 + 9 + 3, "everything before the reset's last byte");
        let mut seen = Vec::new();
        let m = tap.feed(&bytes[n..], &mut |s| {
            seen.push((s.stream, s.word));
            true
        });
        assert_eq!(m, bytes.len() - n);
        assert_eq!(seen, vec![(2, 8)]);
    }
}
