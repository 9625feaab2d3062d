//! HTTP/1.1 through hyper: for TLS clients that negotiate ALPN `http/1.1`
//! and cleartext clients whose first bytes are not the HTTP/2 preface.
//!
//! Push is impossible over HTTP/1.1, so `promise` returns `push-disabled`
//! and the promised paths reach the client as `link: </path>; rel=preload`
//! headers on the final response. Everything else is as over HTTP/2: the
//! same handler, limits, error statuses and log line.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use crate::handler::Handler;
use crate::http2::conn::ConnShared;
use crate::http2::responder::{ReplyBody, Responder, full};
use crate::ops::metrics::Metrics;
use crate::server::connection::{Context, in_box};
use crate::server::request::{InFlight, run, too_large};

/// Request headers that describe the HTTP/1.1 connection, not the request:
/// the guest sees the request as it would over HTTP/2 (`host` becomes the
/// authority).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Serves HTTP/1.1 on `io` until the client closes, stays silent past the
/// idle timeout, or the server shuts down (the request in progress ends,
/// then the connection closes).
pub(crate) async fn serve_http1<H, IO>(runtime: Arc<H>, io: IO, peer: SocketAddr, id: u64, tls: bool, cx: Context)
where
    H: Handler,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = runtime.limits().clone();
    let shared = ConnShared::new(id, peer, 0);
    shared.set_client_enable_push(0);
    tracing::debug!("conn={id}: HTTP/1.1 connection from {peer}");
    let next = Arc::new(AtomicU64::new(1));
    let (inflight, metrics) = (cx.inflight.clone(), cx.metrics.clone());
    let service = service_fn(move |request| {
        let (runtime, shared, inflight, metrics) = (runtime.clone(), shared.clone(), inflight.clone(), metrics.clone());
        let n = next.fetch_add(1, Ordering::Relaxed);
        async move {
            let _inflight = InFlight::new(inflight);
            Ok::<_, Infallible>(handle(runtime, shared, metrics, request, n, tls).await)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    // hyper starts this timer whenever it waits for a request head, also
    // between requests: it is the idle timeout of an HTTP/1.1 connection.
    builder.header_read_timeout((!limits.idle_timeout.is_zero()).then_some(limits.idle_timeout));
    builder.max_buf_size((limits.max_header_list_size as usize).max(8192));
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut going_away = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::info!("conn={id} from {peer}: HTTP/1.1 connection ended: {e}");
                }
                break;
            }
            _ = cx.shutdown.cancelled(), if !going_away => {
                conn.as_mut().graceful_shutdown();
                going_away = true;
            }
        }
    }
    tracing::debug!("conn={id}: closed");
}

/// One request: read it, run the handler, and return the response as soon
/// as the handler has given it (or failed).
async fn handle<H: Handler>(
    runtime: Arc<H>,
    conn: Arc<ConnShared>,
    metrics: Arc<Metrics>,
    request: http::Request<Incoming>,
    n: u64,
    tls: bool,
) -> http::Response<ReplyBody> {
    let started = Instant::now();
    let active = conn.request_started();
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let tag: Arc<str> = format!("conn={} req={n} HTTP/1.1 {} {path}", conn.id, parts.method).into();
    let (reply, response) = oneshot::channel();
    let respond = Responder::Http1(reply);
    let Some(uri) = absolute_uri(&parts, &path, tls) else {
        tracing::warn!("{tag}: 400: no valid Host header, handler not run");
        respond.send_error(400, "HTTP/1.1 request without a valid Host header", None);
        return wait(response).await;
    };
    parts.uri = uri;
    let limits = runtime.limits();
    let body = match read_body(body, &parts.headers, limits.max_body_bytes).await {
        Ok(body) => body,
        Err(None) => {
            too_large(respond, &tag, limits.max_body_bytes);
            return wait(response).await;
        }
        Err(Some(e)) => {
            tracing::info!("{tag}: request body not received: {e}");
            respond.send_error(400, "request body not received", None);
            return wait(response).await;
        }
    };
    for name in HOP_BY_HOP {
        parts.headers.remove(*name);
    }
    // The handler runs here, in the connection's task, until it has given
    // the response; what it still does then (the body, as the guest writes
    // it) goes on on its own task, since hyper sends the body only once
    // this returns. A handler that is done by then costs no task (bench:
    // hello 0.2 with reuse over HTTP/1.1, 46.8 -> 32.3 us/request). If
    // hyper drops this first (the client went away), the handler still
    // runs to its end on its own task, and logs the request.
    // Built in its box (`in_box`): the future is ~11 KB.
    let mut handling = Detach(Some(in_box(move || async move {
        let _active = active;
        run(
            &*runtime, conn, parts, path, body, None, respond, tag, started, &metrics,
        )
        .await;
    })));
    let mut response = response;
    let given = {
        let running = handling.0.as_mut().expect("set above");
        tokio::select! {
            biased;
            given = &mut response => Some(given),
            () = running => None,
        }
    };
    match given {
        // Dropping `handling` spawns the rest of it.
        Some(given) => answer(given),
        None => {
            handling.0 = None;
            wait(response).await
        }
    }
}

/// A handler's future that, dropped before it is done, runs on to its end
/// on a task of its own.
struct Detach(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Drop for Detach {
    fn drop(&mut self) {
        if let Some(rest) = self.0.take() {
            tokio::spawn(rest);
        }
    }
}

/// The response the handler gave through its [`Responder`].
async fn wait(response: oneshot::Receiver<http::Response<ReplyBody>>) -> http::Response<ReplyBody> {
    answer(response.await)
}

/// The response the handler gave, or a 500 if it gave none.
fn answer(given: Result<http::Response<ReplyBody>, oneshot::error::RecvError>) -> http::Response<ReplyBody> {
    match given {
        Ok(response) => response,
        // `run` always answers; this is only reached if its task panicked.
        Err(_) => {
            let mut response = http::Response::new(full(Bytes::from_static(b"internal error\n")));
            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

/// `scheme://host/path` from the request line and the `Host` header, as an
/// HTTP/2 request carries them.
fn absolute_uri(parts: &http::request::Parts, path: &str, tls: bool) -> Option<http::Uri> {
    let authority = match parts.uri.authority() {
        Some(a) => a.as_str().to_string(),
        None => parts.headers.get(http::header::HOST)?.to_str().ok()?.to_string(),
    };
    http::Uri::builder()
        .scheme(if tls { "https" } else { "http" })
        .authority(authority)
        .path_and_query(path)
        .build()
        .ok()
}

/// Reads the whole body; `Err(None)` if it is larger than `max`.
async fn read_body(mut body: Incoming, headers: &http::HeaderMap, max: usize) -> Result<Vec<u8>, Option<hyper::Error>> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(None);
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(Some)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(None);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.to_vec())
}
