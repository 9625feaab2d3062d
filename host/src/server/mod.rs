//! The listening side: accept TCP connections (TLS first with `--tls-*`),
//! hand each to `connection` (HTTP/2) or `http1` (HTTP/1.1, told apart by
//! ALPN or by the first bytes), and shut down gracefully: stop accepting,
//! GOAWAY everywhere, wait for what is in flight (this file).
//!
//! - `tls.rs`: certificate and key loading and checks, ALPN.
//! - `connection.rs`: one HTTP/2 connection: `h2` settings, handshake
//!   deadline, the accept loop, idle GOAWAY, keepalive PINGs.
//! - `http1.rs`: HTTP/1.1 through hyper (no push: promised paths become
//!   `link` headers).
//! - `request.rs`: one request stream: body, handler, error responses, the
//!   request's log line and metrics.

mod connection;
mod http1;
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
    let tls = options.tls.clone().map(TlsAcceptor::from);
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
                None => match first_bytes_are_http1(&socket, deadline, timeout).await {
                    Ok(false) => serve_connection(runtime, socket, peer, id, deadline, cx).await,
                    Ok(true) => serve_http1(runtime, socket, peer, id, false, cx).await,
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

/// Tells an HTTP/1.1 client from an HTTP/2 one (prior knowledge) by its
/// first bytes: the HTTP/2 preface starts with `PRI `, which no HTTP/1.1
/// request does. Waits for them until `deadline`.
async fn first_bytes_are_http1(socket: &TcpStream, deadline: Instant, timeout: Duration) -> Result<bool, String> {
    const PREFIX: &[u8] = b"PRI ";
    let mut buf = [0; 4];
    let peek = async {
        loop {
            let n = socket.peek(&mut buf).await.map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                return Err("the client closed without sending anything".to_string());
            }
            if n >= PREFIX.len() || buf[..n] != PREFIX[..n] {
                return Ok(buf[..n] != PREFIX[..n]);
            }
            // A partial `PRI`: wait for more.
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
