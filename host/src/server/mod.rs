//! The listening side: accept TCP connections (TLS first with `--tls-*`),
//! hand each to `connection` (HTTP/2) or `http1` (HTTP/1.1, told apart by
//! ALPN or by the first bytes), and shut down gracefully: stop accepting,
//! GOAWAY everywhere, wait for what is in flight (this file).
//!
//! - `listen.rs`: the listening socket: bound (`--listen`, `--reuse-port`)
//!   or inherited (systemd socket activation).
//! - `tls.rs`: certificate and key loading and checks, ALPN.
//! - `connection.rs`: one HTTP/2 connection: `h2` settings, handshake
//!   deadline, the accept loop, idle GOAWAY, keepalive PINGs.
//! - `http1.rs`: HTTP/1.1 through hyper (no push: promised paths become
//!   `link` headers).
//! - `request.rs`: one request stream: body, handler, error responses, the
//!   request's log line and metrics.

mod connection;
mod http1;
pub mod listen;
mod request;
pub mod tls;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::handler::Handler;
use crate::ops::metrics::Metrics;
use connection::{Context, secs, serve_connection};
use http1::serve_http1;

/// How [`serve`] runs besides the handler's limits.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Serve TLS (ALPN `h2`) with this configuration instead of h2c.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Cancel to shut down: stop accepting, GOAWAY to every connection,
    /// and return once their requests and pushes have finished.
    pub shutdown: CancellationToken,
    /// Longest a shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
    /// Where requests, pushes and connections are counted.
    pub metrics: Arc<Metrics>,
}

/// How a shutdown ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Requests still running when the shutdown timeout passed (0 when
    /// every one finished).
    pub cut: usize,
}

/// Serves HTTP/2 on one stream already open (an in-memory pipe: `push-host
/// call`), as a connection accepted from a listener would be served, until
/// the client leaves.
pub async fn serve_stream<H, IO>(runtime: Arc<H>, io: IO, id: u64, metrics: Arc<Metrics>)
where
    H: Handler,
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let cx = Context {
        shutdown: CancellationToken::new(),
        inflight: Arc::new(AtomicUsize::new(0)),
        metrics,
    };
    let deadline = Instant::now() + runtime.limits().handshake_timeout;
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    serve_connection(runtime, io, peer, id, deadline, cx).await;
}

/// Serves connections from `listener` until `options.shutdown` is
/// cancelled, then drains them (see [`ServeOptions`]).
pub async fn serve<H: Handler>(listener: TcpListener, runtime: Arc<H>, options: ServeOptions) -> Stopped {
    let connections = Arc::new(Semaphore::new(runtime.limits().max_connections));
    let tracker = TaskTracker::new();
    let cx = Context {
        shutdown: options.shutdown.clone(),
        inflight: Arc::new(AtomicUsize::new(0)),
        metrics: options.metrics.clone(),
    };
    let http1 = runtime.limits().http1;
    let tls = options.tls.clone().map(|config| {
        if http1 {
            TlsAcceptor::from(config)
        } else {
            // HTTP/2 only: ALPN offers `h2` alone.
            let mut config = (*config).clone();
            config.alpn_protocols.retain(|p| p != tls::HTTP1);
            TlsAcceptor::from(Arc::new(config))
        }
    });
    let next_id = AtomicU64::new(1);
    loop {
        let permit = tokio::select! {
            permit = acquire(&connections, runtime.limits().max_connections) => permit,
            _ = options.shutdown.cancelled() => break,
        };
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = options.shutdown.cancelled() => break,
        };
        let _ = socket.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let runtime = runtime.clone();
        let (tls, cx) = (tls.clone(), cx.clone());
        tracker.spawn(async move {
            cx.metrics.connections.inc();
            let open = cx.metrics.connections.clone();
            let _open = DecOnDrop(open);
            let timeout = runtime.limits().handshake_timeout;
            let deadline = Instant::now() + timeout;
            match tls {
                None => match first_bytes(&socket, deadline, timeout, http1).await {
                    Ok(FirstBytes::Http2) => serve_connection(runtime, socket, peer, id, deadline, cx).await,
                    Ok(FirstBytes::Http1) => serve_http1(runtime, socket, peer, id, false, cx).await,
                    Ok(FirstBytes::NotHttp2) => refuse_preface(socket, id, peer).await,
                    Err(why) => tracing::info!("conn={id} from {peer}: {why}; closed"),
                },
                Some(tls) => match tokio::time::timeout_at(deadline, tls.accept(socket)).await {
                    Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(tls::HTTP1) => {
                        serve_http1(runtime, stream, peer, id, true, cx).await
                    }
                    Ok(Ok(stream)) => serve_connection(runtime, stream, peer, id, deadline, cx).await,
                    Ok(Err(e)) => tracing::info!("conn={id} from {peer}: TLS handshake failed: {e}"),
                    Err(_) => tracing::info!(
                        "conn={id} from {peer}: no TLS handshake within the handshake timeout of {}; closed",
                        secs(timeout)
                    ),
                },
            }
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    let open = tracker.len();
    tracing::info!(
        "shutting down: no longer accepting; GOAWAY sent to {open} connection(s), {} request(s) in flight",
        cx.inflight.load(Ordering::Acquire)
    );
    if tokio::time::timeout(options.shutdown_timeout, tracker.wait())
        .await
        .is_ok()
    {
        tracing::info!("shutdown complete: every request finished");
        return Stopped { cut: 0 };
    }
    let cut = cx.inflight.load(Ordering::Acquire);
    tracing::warn!(
        "shutdown timeout of {} passed: closing {} connection(s); {cut} request(s) cut",
        secs(options.shutdown_timeout),
        tracker.len()
    );
    Stopped { cut }
}

/// What a cleartext client's first bytes say it speaks.
#[derive(Debug, PartialEq)]
enum FirstBytes {
    /// The HTTP/2 preface (or, with HTTP/1.1 on, its first bytes).
    Http2,
    /// Anything else, where HTTP/1.1 is served.
    Http1,
    /// Anything else, where HTTP/1.1 is off.
    NotHttp2,
}

/// The client connection preface (RFC 9113 section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a server that speaks only HTTP/2 answers an invalid preface with:
/// its own (empty) SETTINGS, which must come first, then GOAWAY with last
/// stream 0 and PROTOCOL_ERROR (RFC 9113 sections 3.4 and 6.8).
const GOAWAY_PROTOCOL_ERROR: &[u8] = &[
    0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, empty
    0, 0, 8, 0x7, 0, 0, 0, 0, 0, // GOAWAY, 8 bytes, stream 0
    0, 0, 0, 0, // last stream id 0
    0, 0, 0, 1, // PROTOCOL_ERROR
];

/// Tells what a cleartext client speaks by its first bytes, waiting for
/// them until `deadline`. With HTTP/1.1 on, four bytes decide: the HTTP/2
/// preface starts with `PRI `, which no HTTP/1.1 request does. Off, the
/// whole preface must arrive (h2 reads it again: nothing is consumed).
async fn first_bytes(
    socket: &TcpStream,
    deadline: Instant,
    timeout: Duration,
    http1: bool,
) -> Result<FirstBytes, String> {
    let want = if http1 { 4 } else { PREFACE.len() };
    let mut buf = [0; PREFACE.len()];
    let peek = async {
        loop {
            let n = socket
                .peek(&mut buf[..want])
                .await
                .map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                return Err("the client closed without sending anything".to_string());
            }
            if buf[..n] != PREFACE[..n] {
                return Ok(if http1 { FirstBytes::Http1 } else { FirstBytes::NotHttp2 });
            }
            if n >= want {
                return Ok(FirstBytes::Http2);
            }
            // Part of the preface: wait for more.
            socket.readable().await.map_err(|e| format!("read failed: {e}"))?;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout_at(deadline, peek).await.unwrap_or_else(|_| {
        Err(format!(
            "nothing received within the handshake timeout of {}",
            secs(timeout)
        ))
    })
}

/// Answers an invalid preface on an HTTP/2-only port: SETTINGS, then
/// GOAWAY(PROTOCOL_ERROR), then close.
async fn refuse_preface(mut socket: TcpStream, id: u64, peer: std::net::SocketAddr) {
    use tokio::io::AsyncWriteExt;
    tracing::info!(
        "conn={id} from {peer}: invalid HTTP/2 connection preface (HTTP/1.1 is off): GOAWAY(PROTOCOL_ERROR); closed"
    );
    let _ = socket.write_all(GOAWAY_PROTOCOL_ERROR).await;
    let _ = socket.shutdown().await;
}

/// Decrements a gauge when dropped.
struct DecOnDrop(prometheus_client::metrics::gauge::Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for DecOnDrop {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A connection slot, waiting (and saying so once) while all are taken.
async fn acquire(connections: &Arc<Semaphore>, max: usize) -> tokio::sync::OwnedSemaphorePermit {
    match connections.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            tracing::debug!("connection cap of {max} reached: not accepting until one closes");
            connections.clone().acquire_owned().await.expect("never closed")
        }
    }
}
