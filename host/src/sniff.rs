//! A read-side tap on a connection that spots the client's RST_STREAM frames.
//!
//! `h2` drops a reset that arrives after a pushed stream has finished, yet an
//! operator wants to know which pushes clients reject. The tap parses only
//! frame headers (9 bytes each) and hands RST_STREAM frames to [`ConnShared`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::conn::ConnShared;

const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const RST_STREAM: u8 = 0x3;

/// Frame-header parser state.
#[derive(Debug)]
enum State {
    Preface { left: usize },
    Header { buf: [u8; FRAME_HEADER_LEN], filled: usize },
    Skip { left: usize },
    Rst { stream: u32, code: [u8; 4], filled: usize },
}

/// Parses the client-to-server byte stream, reporting RST_STREAM frames.
#[derive(Debug)]
pub struct FrameTap {
    state: State,
}

impl Default for FrameTap {
    fn default() -> Self {
        FrameTap {
            state: State::Preface { left: PREFACE_LEN },
        }
    }
}

impl FrameTap {
    /// Feeds bytes read from the client; calls `on_reset(stream, code)` per RST_STREAM.
    pub fn feed(&mut self, mut data: &[u8], on_reset: &mut impl FnMut(u32, u32)) {
        while !data.is_empty() {
            match &mut self.state {
                State::Preface { left } | State::Skip { left } => {
                    let n = (*left).min(data.len());
                    *left -= n;
                    data = &data[n..];
                    if *left == 0 {
                        self.state = State::Header {
                            buf: [0; FRAME_HEADER_LEN],
                            filled: 0,
                        };
                    }
                }
                State::Header { buf, filled } => {
                    let n = (FRAME_HEADER_LEN - *filled).min(data.len());
                    buf[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    data = &data[n..];
                    if *filled == FRAME_HEADER_LEN {
                        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
                        let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                        self.state = if buf[3] == RST_STREAM && len == 4 {
                            State::Rst {
                                stream,
                                code: [0; 4],
                                filled: 0,
                            }
                        } else if len == 0 {
                            State::Header {
                                buf: [0; FRAME_HEADER_LEN],
                                filled: 0,
                            }
                        } else {
                            State::Skip { left: len }
                        };
                    }
                }
                State::Rst { stream, code, filled } => {
                    let n = (4 - *filled).min(data.len());
                    code[*filled..*filled + n].copy_from_slice(&data[..n]);
                    *filled += n;
                    data = &data[n..];
                    if *filled == 4 {
                        on_reset(*stream, u32::from_be_bytes(*code));
                        self.state = State::Header {
                            buf: [0; FRAME_HEADER_LEN],
                            filled: 0,
                        };
                    }
                }
            }
        }
    }
}

/// An IO object whose reads go through a [`FrameTap`].
pub struct Tapped<T> {
    io: T,
    tap: FrameTap,
    conn: Arc<ConnShared>,
}

impl<T> Tapped<T> {
    /// Wraps `io`, reporting resets to `conn`.
    pub fn new(io: T, conn: Arc<ConnShared>) -> Self {
        Tapped {
            io,
            tap: FrameTap::default(),
            conn,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tapped<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let conn = &this.conn;
            this.tap
                .feed(&buf.filled()[before..], &mut |stream, code| conn.on_client_reset(stream, code));
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tapped<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
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
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

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

    #[test]
    fn finds_resets_across_split_reads() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(0x4, 0, &[0, 2, 0, 0, 0, 0]));
        bytes.extend(frame(0x1, 1, &[1, 2, 3]));
        bytes.extend(frame(RST_STREAM, 4, &8u32.to_be_bytes()));
        bytes.extend(frame(0x8, 0, &[0, 0, 1, 0]));
        bytes.extend(frame(RST_STREAM, 6, &0u32.to_be_bytes()));
        for split in 1..bytes.len() {
            let mut tap = FrameTap::default();
            let mut seen = Vec::new();
            for chunk in bytes.chunks(split) {
                tap.feed(chunk, &mut |s, c| seen.push((s, c)));
            }
            assert_eq!(seen, vec![(4, 8), (6, 0)], "chunk size {split}");
        }
    }
}
