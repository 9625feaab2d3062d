//! The frames a test client receives, in the order they came off the socket,
//! below `h2`: so a test asserts the order on the wire, not the order in which
//! a task happened to process them. A gate can also stop the client reading,
//! so the server's writes back up (a deterministic way to make frames queue
//! inside the server).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// DATA frame type.
pub const DATA: u8 = 0x0;
/// HEADERS frame type.
pub const HEADERS: u8 = 0x1;
/// RST_STREAM frame type.
pub const RST_STREAM: u8 = 0x3;
/// PING frame type.
pub const PING: u8 = 0x6;
/// PUSH_PROMISE frame type.
pub const PUSH_PROMISE: u8 = 0x5;
/// GOAWAY frame type.
pub const GOAWAY: u8 = 0x7;

/// One received frame: type, flags, stream, and for PUSH_PROMISE the promised
/// stream id, for RST_STREAM and GOAWAY the error code (else 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier.
    pub stream: u32,
    /// Promised stream id or error code.
    pub word: u32,
    /// Payload length.
    pub len: u32,
}

/// The frames received so far, shared with the connection.
#[derive(Clone, Default)]
pub struct Frames(Arc<Mutex<Vec<Frame>>>, Arc<tokio::sync::Notify>);

impl Frames {
    /// A copy of every frame received so far.
    pub fn all(&self) -> Vec<Frame> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until the frames received so far satisfy `done` (each new
    /// frame wakes it); panics after `limit`.
    pub async fn wait_until(&self, limit: std::time::Duration, done: impl Fn(&[Frame]) -> bool) {
        let wait = async {
            loop {
                let changed = self.1.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if done(&self.0.lock().unwrap()) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(limit, wait).await.is_err() {
            panic!("the frames never got there within {limit:?}: {:?}", self.all());
        }
    }

    /// PUSH_PROMISE frames as (parent stream, promised stream), in wire order.
    pub fn promises(&self) -> Vec<(u32, u32)> {
        self.all()
            .iter()
            .filter(|f| f.kind == PUSH_PROMISE)
            .map(|f| (f.stream, f.word))
            .collect()
    }

    /// Index of the first HEADERS frame on `stream`, if any.
    pub fn first_headers(&self, stream: u32) -> Option<usize> {
        self.all().iter().position(|f| f.kind == HEADERS && f.stream == stream)
    }

    /// Asserts that every PUSH_PROMISE sent on `parent` came before the
    /// first HEADERS frame (the response) on `parent`; returns how many
    /// promises `parent` carried.
    pub fn assert_promises_before_response(&self, parent: u32) -> usize {
        let frames = self.all();
        let headers = frames
            .iter()
            .position(|f| f.kind == HEADERS && f.stream == parent)
            .unwrap_or_else(|| panic!("no response HEADERS on stream {parent}: {frames:?}"));
        let promises: Vec<usize> = (0..frames.len())
            .filter(|i| frames[*i].kind == PUSH_PROMISE && frames[*i].stream == parent)
            .collect();
        assert!(
            promises.iter().all(|p| *p < headers),
            "a PUSH_PROMISE on stream {parent} came after its response HEADERS (frame {headers}): {frames:?}"
        );
        promises.len()
    }
}

/// Stops and restarts the client's reads.
#[derive(Clone, Default)]
pub struct Gate(Arc<GateInner>);

#[derive(Default)]
struct GateInner {
    closed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    /// The client stops reading from the socket.
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
    }

    /// The client reads again.
    pub fn open(&self) {
        self.0.closed.store(false, Ordering::SeqCst);
        if let Some(w) = self.0.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// A client socket that records every frame it reads (the server sends no
/// preface: frames from the first byte).
pub struct Recorded {
    io: TcpStream,
    frames: Frames,
    gate: Gate,
    /// Bytes of the frame being parsed: header, then up to 4 payload bytes.
    partial: Vec<u8>,
    /// Payload bytes of the current frame still to skip.
    skip: usize,
}

impl Recorded {
    fn parse(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let need = if self.partial.len() < 9 {
                9
            } else {
                let (len, kind, flags) = header(&self.partial);
                9 + len.min(word_len(kind, flags))
            };
            let n = (need - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.partial.len() < need {
                continue;
            }
            let (len, kind, flags) = header(&self.partial);
            if self.partial.len() < 9 + len.min(word_len(kind, flags)) {
                continue; // the header just completed; now the word
            }
            let p = &self.partial;
            let stream = u32::from_be_bytes([p[5], p[6], p[7], p[8]]) & 0x7fff_ffff;
            let pad = usize::from(kind == PUSH_PROMISE && flags & 0x8 != 0);
            let word = if p.len() >= 9 + pad + 4 {
                let w = &p[9 + pad..9 + pad + 4];
                let mask = if kind == PUSH_PROMISE { 0x7fff_ffff } else { !0 };
                u32::from_be_bytes([w[0], w[1], w[2], w[3]]) & mask
            } else {
                0
            };
            // GOAWAY: the error code is the second word.
            let word = if kind == GOAWAY && p.len() >= 17 {
                u32::from_be_bytes([p[13], p[14], p[15], p[16]])
            } else {
                word
            };
            self.frames.0.lock().unwrap().push(Frame {
                kind,
                flags,
                stream,
                word,
                len: len as u32,
            });
            self.frames.1.notify_waiters();
            self.skip = len - (p.len() - 9);
            self.partial.clear();
        }
    }
}

/// Length, type and flags from a frame header.
fn header(p: &[u8]) -> (usize, u8, u8) {
    let len = usize::from(p[0]) << 16 | usize::from(p[1]) << 8 | usize::from(p[2]);
    (len, p[3], p[4])
}

/// Payload bytes the recorder keeps of a frame kind (enough for its word).
fn word_len(kind: u8, flags: u8) -> usize {
    match kind {
        PUSH_PROMISE => 4 + usize::from(flags & 0x8 != 0),
        RST_STREAM => 4,
        GOAWAY => 8,
        _ => 0,
    }
}

impl AsyncRead for Recorded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.gate.0.closed.load(Ordering::SeqCst) {
            *this.gate.0.waker.lock().unwrap() = Some(cx.waker().clone());
            // Re-check: `open` may have run before the waker was stored.
            if this.gate.0.closed.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let fresh = buf.filled()[before..].to_vec();
            this.parse(&fresh);
        }
        res
    }
}

impl AsyncWrite for Recorded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// An h2c connection whose received frames are recorded and whose reads can
/// be stopped.
pub struct Recording {
    /// Send requests here.
    pub send: SendRequest<Bytes>,
    /// What came off the socket.
    pub frames: Frames,
    /// Stops and restarts reading.
    pub gate: Gate,
    /// The connection task.
    pub task: tokio::task::JoinHandle<Result<(), h2::Error>>,
    /// The client's local address.
    pub local: SocketAddr,
}

/// Opens a recorded h2c connection with `builder`'s settings.
pub async fn connect(addr: SocketAddr, builder: &h2::client::Builder) -> Recording {
    connect_with_recv_buffer(addr, builder, None).await
}

/// Like [`connect`], with the client socket's receive buffer fixed at
/// `recv_buffer` bytes (so a client that stops reading stops the server's
/// writes soon).
pub async fn connect_with_recv_buffer(
    addr: SocketAddr,
    builder: &h2::client::Builder,
    recv_buffer: Option<u32>,
) -> Recording {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
    }
    let io = socket.connect(addr).await.expect("connect to push-host");
    let local = io.local_addr().expect("local address");
    let frames = Frames::default();
    let gate = Gate::default();
    let recorded = Recorded {
        io,
        frames: frames.clone(),
        gate: gate.clone(),
        partial: Vec::new(),
        skip: 0,
    };
    let (send, conn) = builder.handshake(recorded).await.expect("HTTP/2 handshake");
    let task = tokio::spawn(conn);
    let send = send.ready().await.expect("connection ready");
    Recording {
        send,
        frames,
        gate,
        task,
        local,
    }
}

/// The bytes the server side of the loopback connection `server` → `client`
/// has sent but the client has not acknowledged (`tx_queue` in
/// `/proc/net/tcp`): non-zero and growing only while the client's receive
/// buffer is full.
pub fn server_send_queue(server: SocketAddr, client: SocketAddr) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |field: &str| u16::from_str_radix(field.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if port(fields[1])? == server.port() && port(fields[2])? == client.port() {
            u64::from_str_radix(fields[4].split(':').next()?, 16).ok()
        } else {
            None
        }
    })
}

impl Frames {
    /// Frames made by hand (to check the checks).
    pub fn from_frames(frames: Vec<Frame>) -> Frames {
        Frames(Arc::new(Mutex::new(frames)), Default::default())
    }
}
