//! [`Client`]: one HTTP/2 connection to one origin.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

use crate::driver::Driver;
use crate::handle::ResponseHandle;
use crate::origin::Origin;
use crate::tls::{self, Trust};
use crate::wire::{Tap, TapIo};
use crate::{Error, Request};

/// Most pushed streams the server may have open at once (SETTINGS).
const MAX_CONCURRENT_PUSHES: u32 = 100;
/// Connection receive window: larger than all pushed streams' windows
/// together (100 x 64 KiB), so promises left unread never starve the main
/// response of connection-level flow control.
const CONNECTION_WINDOW: u32 = 16 << 20;

/// Configures a [`Client`] before it connects.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    enable_push: bool,
    connect_timeout: Duration,
    trust: Trust,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            enable_push: true,
            connect_timeout: Duration::from_secs(10),
            trust: Trust::default(),
        }
    }
}

impl ClientBuilder {
    /// Whether the server may push (SETTINGS_ENABLE_PUSH); default `true`.
    /// With `false` the server must not send promises at all.
    pub fn enable_push(mut self, enable: bool) -> ClientBuilder {
        self.enable_push = enable;
        self
    }

    /// How long to wait for the TCP connection; default 10 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// For `https://`: also trust the CA certificates in `path` (PEM), besides
    /// the system's. Repeatable.
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> ClientBuilder {
        self.trust.ca_files.push(path.into());
        self
    }

    /// For `https://`: accept any server certificate, unverified. Only for
    /// tests against servers with throwaway certificates; never the default.
    pub fn insecure(mut self, insecure: bool) -> ClientBuilder {
        self.trust.insecure = insecure;
        self
    }

    /// Connects to the origin of `url` (its path is ignored) and starts
    /// HTTP/2: with prior knowledge (h2c) for `http://`, with TLS and ALPN
    /// `h2` for `https://`.
    ///
    /// Must be called within a tokio runtime: the connection is driven by a
    /// spawned task.
    pub async fn connect(self, url: &str) -> Result<Client, Error> {
        let origin = Arc::new(Origin::parse(url)?);
        let addr = origin.addr();
        let connect = TcpStream::connect((origin.connect_host.as_str(), origin.port()));
        let tcp = match tokio::time::timeout(self.connect_timeout, connect).await {
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
            Err(_) => {
                return Err(Error::Connect {
                    addr,
                    reason: format!("timed out after {:?}", self.connect_timeout),
                });
            }
        };
        let _ = tcp.set_nodelay(true);
        let tap = Tap::default();
        let mut h2 = h2::client::Builder::new();
        h2.enable_push(self.enable_push)
            .max_concurrent_streams(MAX_CONCURRENT_PUSHES)
            .initial_connection_window_size(CONNECTION_WINDOW);
        let (closed_tx, closed) = watch::channel(false);
        let during = format!("starting HTTP/2 with {addr}");
        let send = if origin.scheme() == "https" {
            let config = tls::config(&self.trust)?;
            let name = tls::server_name(&origin.connect_host)?;
            let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
            let stream = match tokio::time::timeout(self.connect_timeout, handshake).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    return Err(Error::Tls {
                        reason: format!("handshake with {addr} failed: {e}"),
                    });
                }
                Err(_) => {
                    return Err(Error::Tls {
                        reason: format!("handshake with {addr} timed out after {:?}", self.connect_timeout),
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
                .handshake::<_, Bytes>(TapIo::new(tcp, tap.clone()))
                .await
                .map_err(|e| Error::from_h2(e, during))?;
            spawn_connection(connection, closed_tx);
            send
        };
        Ok(Client {
            send,
            origin,
            tap,
            closed,
        })
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

/// An HTTP/2 connection to one origin (`http://host:port` or `https://`).
///
/// Cheap to clone; clones share the connection, which closes (GOAWAY
/// `NO_ERROR`) once every clone and every handle and promise using it is
/// dropped. Needs a tokio runtime. Call [`close`](Client::close) before the
/// program exits so frames still queued, such as the `RST_STREAM` of a
/// just-rejected promise, reach the server.
#[derive(Debug, Clone)]
pub struct Client {
    send: SendRequest<Bytes>,
    origin: Arc<Origin>,
    tap: Tap,
    closed: watch::Receiver<bool>,
}

impl Client {
    /// Connects with the default settings (pushes enabled); see
    /// [`ClientBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Client, Error> {
        ClientBuilder::default().connect(url).await
    }

    /// Drops this client and waits until the connection has closed, having
    /// flushed what it still had to send.
    ///
    /// The connection closes only once every clone of the client and every
    /// [`ResponseHandle`] and [`PushPromise`](crate::PushPromise) from it has
    /// been dropped; drop those first (or bound the wait with a timeout).
    pub async fn close(self) {
        let Client { send, mut closed, .. } = self;
        drop(send);
        // An error means the connection task is gone, i.e. closed too.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// A builder for non-default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The authority requests are sent to (`host[:port]`).
    pub fn authority(&self) -> &str {
        self.origin.authority()
    }

    /// Sends `request` and returns at once with a handle to its promises
    /// and response.
    pub async fn submit(&self, request: Request) -> Result<ResponseHandle, Error> {
        let (method, path, headers, body) = request.into_parts()?;
        let label = format!("{method} {path}");
        let uri = format!("{}://{}{path}", self.origin.scheme(), self.origin.authority());
        let mut http_request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .map_err(|e| Error::InvalidRequest { reason: e.to_string() })?;
        *http_request.headers_mut() = headers;

        let during = format!("submitting {label}");
        let mut send = self
            .send
            .clone()
            .ready()
            .await
            .map_err(|e| Error::from_h2(e, &*during))?;
        let end_of_stream = body.is_empty();
        let (response, mut stream) = send
            .send_request(http_request, end_of_stream)
            .map_err(|e| Error::from_h2(e, &*during))?;
        if !end_of_stream {
            stream.send_data(body, true).map_err(|e| Error::from_h2(e, &*during))?;
        }

        let stream_id = response.stream_id().as_u32();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        let driver = Driver::new(self.origin.clone(), self.tap.clone(), label.clone(), events_tx);
        let task = tokio::spawn(driver.run(response, stream, done_tx));
        Ok(ResponseHandle::new(label, stream_id, events_rx, done_rx, task))
    }
}
