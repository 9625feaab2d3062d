//! A hand-written HTTP/2 client, frame by frame, for what `h2::client`
//! cannot send (e.g. a SETTINGS change in the middle of a connection).
//! Header blocks use HPACK literals without indexing, so no state is needed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// DATA frame type.
pub const DATA: u8 = 0x0;
/// HEADERS frame type.
pub const HEADERS: u8 = 0x1;
/// SETTINGS frame type.
pub const SETTINGS: u8 = 0x4;
/// PUSH_PROMISE frame type.
pub const PUSH_PROMISE: u8 = 0x5;
/// GOAWAY frame type.
pub const GOAWAY: u8 = 0x7;
/// PING frame type.
pub const PING: u8 = 0x6;
/// END_STREAM flag.
pub const END_STREAM: u8 = 0x1;
/// ACK flag (SETTINGS).
pub const ACK: u8 = 0x1;
/// END_HEADERS flag.
pub const END_HEADERS: u8 = 0x4;
/// SETTINGS_ENABLE_PUSH.
pub const ENABLE_PUSH: u16 = 0x2;

/// One frame as read.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier.
    pub stream: u32,
    /// Payload.
    pub payload: Vec<u8>,
}

/// The client side of one connection.
pub struct RawClient {
    socket: TcpStream,
    authority: String,
    /// Every frame read so far.
    pub seen: Vec<Frame>,
}

impl RawClient {
    /// Connects, sends the preface and a SETTINGS frame with `settings`.
    pub async fn connect(addr: SocketAddr, settings: &[(u16, u32)]) -> RawClient {
        let mut socket = TcpStream::connect(addr).await.expect("connect");
        socket.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        let mut client = RawClient {
            socket,
            authority: addr.to_string(),
            seen: Vec::new(),
        };
        client.settings(settings).await;
        client
    }

    /// Sends one frame.
    pub async fn write_frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        frame.extend([kind, flags]);
        frame.extend(stream.to_be_bytes());
        frame.extend(payload);
        self.socket.write_all(&frame).await.expect("write frame");
    }

    /// Sends a SETTINGS frame.
    pub async fn settings(&mut self, settings: &[(u16, u32)]) {
        let mut payload = Vec::new();
        for (id, value) in settings {
            payload.extend(id.to_be_bytes());
            payload.extend(value.to_be_bytes());
        }
        self.write_frame(SETTINGS, 0, 0, &payload).await;
    }

    /// Sends `GET path` on `stream` with no body.
    pub async fn get(&mut self, stream: u32, path: &str) {
        let mut block = vec![0x82, 0x86]; // :method GET, :scheme http
        literal(&mut block, 4, path); // :path
        let authority = self.authority.clone();
        literal(&mut block, 1, &authority); // :authority
        self.write_frame(HEADERS, END_HEADERS | END_STREAM, stream, &block)
            .await;
    }

    /// Reads the next frame (acknowledging the server's SETTINGS); `None` at
    /// end of stream. Panics after 10 s without a frame.
    pub async fn read_frame(&mut self) -> Option<Frame> {
        let mut head = [0; 9];
        tokio::time::timeout(Duration::from_secs(10), self.socket.read_exact(&mut head))
            .await
            .expect("a frame within 10 s")
            .ok()?;
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

    /// Reads until `stream` has ended (END_STREAM on it); returns the
    /// frames read meanwhile.
    pub async fn read_until_end(&mut self, stream: u32) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(f) = self.read_frame().await {
            let done = f.stream == stream && f.flags & END_STREAM != 0 && (f.kind == DATA || f.kind == HEADERS);
            let goaway = f.kind == GOAWAY;
            frames.push(f);
            if done || goaway {
                break;
            }
        }
        frames
    }
}

/// Appends an HPACK literal without indexing, name from static index `name`.
fn literal(block: &mut Vec<u8>, name: u8, value: &str) {
    assert!(name < 15 && value.len() < 127);
    block.push(name);
    block.push(value.len() as u8);
    block.extend(value.as_bytes());
}
