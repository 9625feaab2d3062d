//! A [`Client`](crate::Client)'s connection: the settings it is opened
//! with, opening one ([`Conn`]), and the one new requests go on, replaced
//! when the server goes away ([`Shared`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, watch};

use crate::Error;
use crate::origin::Origin;
use crate::tls::{self, Trust};
use crate::wire::{Tap, TapIo};

/// Most pushed streams the server may have open at once (SETTINGS).
const MAX_CONCURRENT_PUSHES: u32 = 100;
/// Connection receive window: larger than all pushed streams' windows
/// together (100 x 64 KiB), so promises left unread never starve the main
/// response of connection-level flow control.
const CONNECTION_WINDOW: u32 = 16 << 20;

/// What [`ClientBuilder`](crate::ClientBuilder) sets.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) enable_push: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) trust: Trust,
    pub(crate) max_retries: u32,
    /// Opens the byte stream of each connection instead of TCP.
    pub(crate) dial: Option<Dialer>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enable_push: true,
            connect_timeout: Duration::from_secs(10),
            trust: Trust::default(),
            max_retries: 3,
            dial: None,
        }
    }
}

/// A byte stream a connection can run on.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// What opens a connection's stream: see
/// [`ClientBuilder::connect_with`](crate::ClientBuilder::connect_with).
type Dial = dyn Fn() -> Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Send>> + Send + Sync;

/// Opens the byte stream of each connection, instead of TCP.
#[derive(Clone)]
pub(crate) struct Dialer(pub(crate) Arc<Dial>);

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialer")
    }
}

/// Opens connection number `generation` to `origin`.
async fn open(settings: &Settings, origin: &Origin, generation: u64) -> Result<Conn, Error> {
    let addr = origin.addr();
    let timed_out = || Error::Connect {
        addr: addr.clone(),
        reason: format!("timed out after {:?}", settings.connect_timeout),
    };
    if let Some(Dialer(dial)) = &settings.dial {
        let stream = match tokio::time::timeout(settings.connect_timeout, dial()).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(Error::Connect {
                    addr,
                    reason: e.to_string(),
                });
            }
            Err(_) => return Err(timed_out()),
        };
        return start(settings, origin, generation, stream).await;
    }
    let connect = TcpStream::connect((origin.connect_host.as_str(), origin.port()));
    let tcp = match tokio::time::timeout(settings.connect_timeout, connect).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            return Err(Error::ConnectionRefused { addr });
        }
        Ok(Err(e)) => {
            return Err(Error::Connect {
                addr,
                reason: e.to_string(),
            });
        }
        Err(_) => return Err(timed_out()),
    };
    let _ = tcp.set_nodelay(true);
    start(settings, origin, generation, tcp).await
}

/// Starts HTTP/2 on `stream` (TLS first for `https://`).
async fn start<S: Io>(settings: &Settings, origin: &Origin, generation: u64, stream: S) -> Result<Conn, Error> {
    let addr = origin.addr();
    let tap = Tap::default();
    let mut h2 = h2::client::Builder::new();
    h2.enable_push(settings.enable_push)
        .max_concurrent_streams(MAX_CONCURRENT_PUSHES)
        .initial_connection_window_size(CONNECTION_WINDOW);
    let (closed_tx, closed) = watch::channel(false);
    let during = format!("starting HTTP/2 with {addr}");
    let send = if origin.scheme() == "https" {
        let config = tls::config(&settings.trust)?;
        let name = tls::server_name(&origin.connect_host)?;
        let handshake = tokio_rustls::TlsConnector::from(config).connect(name, stream);
        let stream = match tokio::time::timeout(settings.connect_timeout, handshake).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(Error::Tls {
                    reason: format!("handshake with {addr} failed: {e}"),
                });
            }
            Err(_) => {
                return Err(Error::Tls {
                    reason: format!("handshake with {addr} timed out after {:?}", settings.connect_timeout),
                });
            }
        };
        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(Error::Tls {
                reason: format!("{addr} did not agree to HTTP/2 (ALPN h2)"),
            });
        }
        let (send, connection) = h2
            .handshake::<_, Bytes>(TapIo::new(stream, tap.clone()))
            .await
            .map_err(|e| Error::from_h2(e, during))?;
        spawn_connection(connection, closed_tx);
        send
    } else {
        let (send, connection) = h2
            .handshake::<_, Bytes>(TapIo::new(stream, tap.clone()))
            .await
            .map_err(|e| Error::from_h2(e, during))?;
        spawn_connection(connection, closed_tx);
        send
    };
    Ok(Conn {
        generation,
        send,
        tap,
        closed,
    })
}

/// One HTTP/2 connection of a [`Client`](crate::Client).
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    /// Which connection of the client this is (0 first, then each renewal).
    pub(crate) generation: u64,
    pub(crate) send: SendRequest<Bytes>,
    pub(crate) tap: Tap,
    closed: watch::Receiver<bool>,
}

impl Conn {
    /// Waits until the connection has ended (which needs every
    /// `SendRequest` dropped: this one is, first).
    pub(crate) async fn closed(self) {
        let mut closed = self.closed.clone();
        drop(self);
        // An error means the connection task is gone, i.e. closed too.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// Whether the server has gone away (`GOAWAY`) or the connection ended:
    /// no new request can go on it.
    pub(crate) fn is_gone(&self) -> bool {
        *self.closed.borrow() || self.tap.went_away()
    }
}

/// What the clones of a [`Client`](crate::Client) and its requests'
/// retries share.
#[derive(Debug)]
pub(crate) struct Shared {
    settings: Settings,
    pub(crate) origin: Arc<Origin>,
    /// The connection new requests go on.
    conn: Mutex<Conn>,
    /// Requests sent again, over the client's life.
    pub(crate) retried: AtomicU64,
    /// Connections opened after the first.
    pub(crate) reconnects: AtomicU64,
}

impl Shared {
    /// Opens the first connection to `origin`.
    pub(crate) async fn connect(settings: Settings, origin: Origin) -> Result<Shared, Error> {
        let conn = open(&settings, &origin, 0).await?;
        Ok(Shared {
            settings,
            origin: Arc::new(origin),
            conn: Mutex::new(conn),
            retried: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
        })
    }

    pub(crate) fn max_retries(&self) -> u32 {
        self.settings.max_retries
    }

    /// The connection new requests go on.
    pub(crate) async fn current(&self) -> Conn {
        self.conn.lock().await.clone()
    }

    /// The connection a new request goes on: the current one, or a new
    /// one if the server has gone away from it.
    pub(crate) async fn for_new_request(&self) -> Result<Conn, Error> {
        let current = self.current().await;
        if current.is_gone() {
            return self.renew(current.generation).await;
        }
        Ok(current)
    }

    /// A connection to send a request again on after the server refused it
    /// on connection `failed` (a generation): the current one if it can
    /// still take requests, else [`renew`](Self::renew).
    pub(crate) async fn usable(&self, failed: u64) -> Result<Conn, Error> {
        let current = self.current().await;
        if current.generation == failed && current.is_gone() {
            return self.renew(failed).await;
        }
        Ok(current)
    }

    /// A connection to use instead of `failed` (a generation): the one
    /// opened since, or a new one. Requests failing together open one.
    pub(crate) async fn renew(&self, failed: u64) -> Result<Conn, Error> {
        let mut conn = self.conn.lock().await;
        if conn.generation == failed {
            *conn = open(&self.settings, &self.origin, failed + 1).await?;
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        Ok(conn.clone())
    }
}

/// Drives `connection` on its own task; `closed` turns true when it ends.
fn spawn_connection<T>(connection: h2::client::Connection<T, Bytes>, closed: watch::Sender<bool>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("HTTP/2 connection ended: {e}");
        }
        let _ = closed.send(true);
    });
}
