//! One HTTP/2 connection: the `h2` settings, the handshake deadline, the
//! accept loop that starts a task per request, and the connection's end:
//! GOAWAY when idle or shutting down, close when a PING goes unanswered.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::h2_settings;
use crate::handler::Handler;
use crate::http2::coalesce::Coalesced;
use crate::http2::conn::ConnShared;
use crate::http2::sniff::Tapped;
use crate::ops::metrics::Metrics;
use crate::server::request::handle_stream;

/// What a connection shares with the server that accepted it.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// Cancelled when the server shuts down: the connection sends GOAWAY
    /// and ends once its streams have.
    pub shutdown: CancellationToken,
    /// Requests running on every connection.
    pub inflight: Arc<AtomicUsize>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
}

/// Serves HTTP/2 on `io` (TCP, or TLS already accepted) until the client
/// leaves, the connection idles out, or the server shuts down. The client's
/// preface must arrive before `handshake_deadline`.
pub(crate) async fn serve_connection<H, IO>(
    runtime: Arc<H>,
    io: IO,
    peer: SocketAddr,
    id: u64,
    handshake_deadline: Instant,
    cx: Context,
) where
    H: Handler,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = runtime.limits().clone();
    let shared = ConnShared::new(id, peer, limits.push_diary);
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(limits.max_streams_per_connection)
        .max_header_list_size(limits.max_header_list_size)
        .initial_window_size(h2_settings::INITIAL_WINDOW_SIZE)
        .initial_connection_window_size(h2_settings::INITIAL_CONNECTION_WINDOW_SIZE)
        .max_send_buffer_size(h2_settings::MAX_SEND_BUFFER_SIZE)
        .max_pending_accept_reset_streams(h2_settings::MAX_PENDING_ACCEPT_RESET_STREAMS)
        .max_local_error_reset_streams(Some(h2_settings::MAX_LOCAL_ERROR_RESET_STREAMS))
        .handshake::<_, Bytes>(Tapped::new(Coalesced::new(io), shared.clone()));
    let mut conn = match tokio::time::timeout_at(handshake_deadline, handshake).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::info!("conn={id} from {peer}: HTTP/2 handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::info!(
                "conn={id} from {peer}: no HTTP/2 preface within the handshake timeout of {}; closed",
                secs(limits.handshake_timeout)
            );
            return;
        }
    };
    tracing::debug!("conn={id}: HTTP/2 connection from {peer}");
    let unanswered_ping = CancellationToken::new();
    let keepalive = (!limits.keepalive.is_zero())
        .then(|| conn.ping_pong())
        .flatten()
        .map(|pings| tokio::spawn(keep_alive(pings, limits.keepalive, unanswered_ping.clone())));
    let idle = limits.idle_timeout;
    let mut idle_check = Instant::now() + idle;
    let mut going_away = false;
    // After an idle GOAWAY, h2 waits for the PONG of its PING before closing;
    // a client that never answers is closed this long after.
    let mut idle_close: Option<Instant> = None;
    loop {
        tokio::select! {
            next = conn.accept() => match next {
                Some(Ok((request, respond))) => {
                    shared.set_max_send_streams(conn.max_concurrent_send_streams());
                    // Boxed: the request's future is ~11 KB, and tokio moves a
                    // task's future several times (spawn, and each stage
                    // change); with a box it moves a pointer. Built in the
                    // box (`in_box`), not on the stack and then copied.
                    let (runtime, shared) = (runtime.clone(), shared.clone());
                    let (inflight, metrics) = (cx.inflight.clone(), cx.metrics.clone());
                    tokio::spawn(in_box(move || {
                        handle_stream(runtime, shared, inflight, metrics, request, respond)
                    }));
                }
                Some(Err(e)) => {
                    tracing::info!("conn={id} from {peer}: connection error: {e}");
                    break;
                }
                None => break,
            },
            _ = cx.shutdown.cancelled(), if !going_away => {
                tracing::debug!("conn={id}: server shutting down: GOAWAY");
                conn.graceful_shutdown();
                going_away = true;
            }
            _ = tokio::time::sleep_until(idle_check), if !idle.is_zero() && !going_away => {
                match shared.idle_since().filter(|_| !conn.has_streams()) {
                    Some(since) if since.elapsed() >= idle => {
                        tracing::info!("conn={id} from {peer}: idle for {}: GOAWAY", secs(idle));
                        conn.graceful_shutdown();
                        going_away = true;
                        idle_close = Some(Instant::now() + idle);
                    }
                    Some(since) => idle_check = Instant::from_std(since) + idle,
                    None => idle_check = Instant::now() + idle,
                }
            }
            _ = sleep_until_some(idle_close) => {
                tracing::info!(
                    "conn={id} from {peer}: still open {} after its idle GOAWAY; closing",
                    secs(idle)
                );
                break;
            }
            _ = unanswered_ping.cancelled() => {
                tracing::warn!(
                    "conn={id} from {peer}: no PONG within {} of a keepalive PING; closing",
                    secs(limits.keepalive)
                );
                break;
            }
        }
    }
    if let Some(task) = keepalive {
        task.abort();
    }
    tracing::debug!("conn={id}: closed");
}

/// Sleeps until `deadline`, or forever if there is none.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Sends a PING every `every`; cancels `dead` when one is not answered
/// before the next is due. Ends quietly when the connection does.
async fn keep_alive(mut pings: h2::PingPong, every: Duration, dead: CancellationToken) {
    loop {
        tokio::time::sleep(every).await;
        match tokio::time::timeout(every, pings.ping(h2::Ping::opaque())).await {
            Ok(Ok(_pong)) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                dead.cancel();
                return;
            }
        }
    }
}

/// A duration as the flags spell it: seconds.
pub(crate) fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// `make()`'s future, written straight into its heap allocation: the box is
/// allocated first, so the compiler can build the future in place instead of
/// on the stack and then copying all of it (an 11 KB `memcpy` per request,
/// 1.4% of the wasm seed's CPU in a profile).
pub(crate) fn in_box<F: Future>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    Box::into_pin(Box::write(Box::new_uninit(), make()))
}
