//! A hand-written HTTP/2 server side, frame by frame, for what `h2::server`
//! refuses to produce (a PUSH_PROMISE for POST, a connection cut mid-body).
//! Header blocks use HPACK literals without indexing, so no state is needed.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame as read.
#[derive(Debug, Clone)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

/// The server side of one connection.
pub struct RawConn {
    pub socket: TcpStream,
    /// Every frame read so far.
    pub seen: Vec<Frame>,
}

impl RawConn {
    /// Reads the client preface and sends an empty SETTINGS frame.
    pub async fn start(mut socket: TcpStream) -> RawConn {
        let mut preface = [0; 24];
        socket.read_exact(&mut preface).await.expect("client preface");
        assert_eq!(&preface, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        let mut conn = RawConn {
            socket,
            seen: Vec::new(),
        };
        conn.write_frame(SETTINGS, 0, 0, &[]).await;
        conn
    }

    pub async fn write_frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        frame.extend([kind, flags]);
        frame.extend(stream.to_be_bytes());
        frame.extend(payload);
        self.socket.write_all(&frame).await.expect("write frame");
    }

    /// Reads the next frame (acknowledging SETTINGS on the way); `None` at
    /// end of stream.
    pub async fn read_frame(&mut self) -> Option<Frame> {
        let mut head = [0; 9];
        self.socket.read_exact(&mut head).await.ok()?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0; len];
        self.socket.read_exact(&mut payload).await.ok()?;
        let frame = Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
            payload,
        };
        if frame.kind == SETTINGS && frame.flags & ACK == 0 {
            self.write_frame(SETTINGS, ACK, 0, &[]).await;
        }
        self.seen.push(frame.clone());
        Some(frame)
    }

    /// Reads frames until one matches; `None` if the connection ends first.
    pub async fn read_until(&mut self, want: impl Fn(&Frame) -> bool) -> Option<Frame> {
        loop {
            let frame = self.read_frame().await?;
            if want(&frame) {
                return Some(frame);
            }
        }
    }

    /// Waits for a request's HEADERS; its stream id.
    pub async fn request(&mut self) -> u32 {
        self.read_until(|f| f.kind == HEADERS)
            .await
            .expect("request HEADERS")
            .stream
    }

    /// Sends a PUSH_PROMISE on `parent` promising `promised`.
    /// A PUSH_PROMISE of `GET http://<this server>PATH` on `parent`.
    pub async fn push_get(&mut self, parent: u32, promised: u32, path: &str) {
        let authority = format!("127.0.0.1:{}", self.socket.local_addr().unwrap().port());
        let headers = [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", authority.as_str()),
            (":path", path),
        ];
        self.push_promise(parent, promised, &headers).await;
    }

    pub async fn push_promise(&mut self, parent: u32, promised: u32, headers: &[(&str, &str)]) {
        let mut payload = promised.to_be_bytes().to_vec();
        payload.extend(hpack(headers));
        self.write_frame(PUSH_PROMISE, END_HEADERS, parent, &payload).await;
    }

    /// Sends response HEADERS.
    pub async fn headers(&mut self, stream: u32, headers: &[(&str, &str)], end_stream: bool) {
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        self.write_frame(HEADERS, flags, stream, &hpack(headers)).await;
    }

    /// Sends a DATA frame.
    pub async fn data(&mut self, stream: u32, data: &[u8], end_stream: bool) {
        let flags = if end_stream { END_STREAM } else { 0 };
        self.write_frame(DATA, flags, stream, data).await;
    }
}

/// HPACK "literal header field without indexing — new name" for each pair.
pub fn hpack(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.push(0x00);
        for s in [name, value] {
            hpack_int(&mut out, s.len(), 7, 0x00);
            out.extend(s.as_bytes());
        }
    }
    out
}

/// HPACK integer with an `n`-bit prefix (RFC 7541 §5.1).
fn hpack_int(out: &mut Vec<u8>, mut value: usize, n: u32, first: u8) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128 + 128) as u8);
        value /= 128;
    }
    out.push(value as u8);
}

/// The error code of a RST_STREAM frame.
pub fn rst_code(frame: &Frame) -> u32 {
    assert_eq!(frame.kind, RST_STREAM);
    u32::from_be_bytes(frame.payload[..4].try_into().unwrap())
}
