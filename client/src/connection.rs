//! [`Client`] and [`ClientBuilder`]: the library's entry point.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::driver::Driver;
use crate::handle::ResponseHandle;
use crate::link::{Dialer, Io, Settings, Shared};
use crate::origin::Origin;
use crate::retry::Retry;
use crate::{Error, Request};

/// Configures a [`Client`] before it connects.
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    settings: Settings,
}

impl ClientBuilder {
    /// Whether the server may push (SETTINGS_ENABLE_PUSH); default `true`.
    /// With `false` the server must not send promises at all.
    pub fn enable_push(mut self, enable: bool) -> ClientBuilder {
        self.settings.enable_push = enable;
        self
    }

    /// How long to wait for the TCP connection; default 10 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.settings.connect_timeout = timeout;
        self
    }

    /// For `https://`: also trust the CA certificates in `path` (PEM), besides
    /// the system's. Repeatable.
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> ClientBuilder {
        self.settings.trust.ca_files.push(path.into());
        self
    }

    /// For `https://`: accept any server certificate, unverified. Only for
    /// tests against servers with throwaway certificates; never the default.
    pub fn insecure(mut self, insecure: bool) -> ClientBuilder {
        self.settings.trust.insecure = insecure;
        self
    }

    /// How many times one request the server did not process is sent
    /// again (on a new connection if the server has gone away from the
    /// first); default 3, `0` turns retries off.
    ///
    /// A request is retried only when the server is known not to have
    /// processed it (RFC 9113 §8.7): its stream is above the last-stream-id
    /// of a `GOAWAY` the server sent (a server draining for a restart), the
    /// server reset it with `REFUSED_STREAM`, or it could not be sent
    /// because the connection broke as it was submitted. Nothing of it has reached the
    /// caller then (no promise, no response head), so a retry is invisible
    /// apart from [`ResponseHandle::retries`] and [`Client::retried`]. A
    /// request that may have been processed (the connection dropped with no
    /// `GOAWAY`, or below its last-stream-id) is never sent twice.
    pub fn max_retries(mut self, retries: u32) -> ClientBuilder {
        self.settings.max_retries = retries;
        self
    }

    /// Connects to the origin of `url` (its path is ignored) and starts
    /// HTTP/2: with prior knowledge (h2c) for `http://`, with TLS and ALPN
    /// `h2` for `https://`.
    ///
    /// Must be called within a tokio runtime: the connection is driven by a
    /// spawned task.
    pub async fn connect(self, url: &str) -> Result<Client, Error> {
        let origin = Origin::parse(url)?;
        Ok(Client {
            shared: Arc::new(Shared::connect(self.settings, origin).await?),
        })
    }
}

impl ClientBuilder {
    /// As [`connect`](Self::connect), but each connection runs on a byte
    /// stream `dial` opens instead of a TCP connection: an in-memory pipe
    /// to a server in the same process, a Unix socket, a tunnel. `url`
    /// still names the origin (its scheme, and the authority requests
    /// carry); `https://` starts TLS on the stream. `dial` is called again
    /// for each new connection (after the server goes away).
    pub async fn connect_with<F, Fut, S>(mut self, url: &str, dial: F) -> Result<Client, Error>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = std::io::Result<S>> + Send + 'static,
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        self.settings.dial = Some(Dialer(Arc::new(move || {
            let opened = dial();
            Box::pin(async move { opened.await.map(|s| Box::new(s) as Box<dyn Io>) })
        })));
        self.connect(url).await
    }
}

/// An HTTP/2 connection to one origin (`http://host:port` or `https://`).
///
/// Cheap to clone; clones share the connection, which closes (GOAWAY
/// `NO_ERROR`) once every clone and every handle and promise using it is
/// dropped. Needs a tokio runtime. Call [`close`](Client::close) before the
/// program exits so frames still queued, such as the `RST_STREAM` of a
/// just-rejected promise, reach the server.
///
/// When the server goes away (a `GOAWAY`, as a server draining for a
/// restart sends) or the connection ends, later requests go on a new
/// connection ([`reconnects`](Client::reconnects)), and requests the server
/// did not process are sent again ([`ClientBuilder::max_retries`]).
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
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
        let conn = self.shared.current().await;
        drop(self);
        conn.closed().await;
    }

    /// A builder for non-default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The authority requests are sent to (`host[:port]`).
    pub fn authority(&self) -> &str {
        self.shared.origin.authority()
    }

    /// How many times requests of this client (and its clones) were sent
    /// again because the server had not processed them; see
    /// [`ClientBuilder::max_retries`].
    pub fn retried(&self) -> u64 {
        self.shared.retried.load(Ordering::Relaxed)
    }

    /// How many new connections this client (and its clones) opened after
    /// the first, because the server had gone away (`GOAWAY`) or the
    /// connection had ended.
    pub fn reconnects(&self) -> u64 {
        self.shared.reconnects.load(Ordering::Relaxed)
    }

    /// Sends `request` and returns at once with a handle to its promises
    /// and response.
    ///
    /// If the server has gone away from the connection (or it ended), the
    /// request goes on a new one; that is not a retry.
    pub async fn submit(&self, request: Request) -> Result<ResponseHandle, Error> {
        let (method, path, headers, body) = request.into_parts()?;
        let label = format!("{method} {path}");
        let uri = format!(
            "{}://{}{path}",
            self.shared.origin.scheme(),
            self.shared.origin.authority()
        );
        let mut retry = Retry::new(self.shared.clone(), label.clone(), method, uri, headers, body)?;
        let sent = retry.send_first().await?;
        let progress = retry.progress();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        let driver = Driver::new(self.shared.origin.clone(), label.clone(), events_tx);
        let task = tokio::spawn(driver.run(sent, retry, done_tx));
        Ok(ResponseHandle::new(label, progress, events_rx, done_rx, task))
    }
}
