//! The admin listener (`--admin-listen ADDR`, keep it on loopback):
//! `/metrics` (Prometheus text format), `/healthz` (the process answers),
//! `/readyz` (503 `loading` until every component has loaded and the
//! listener is bound, then 200 while serving, 503 `draining` once shutting
//! down). It starts before the components load, so probes get an answer
//! during a cold compile. With a token (`token.rs`), `/metrics` answers
//! `401` to a request without it; the probes stay open.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ops::metrics::Metrics;
use crate::ops::token::AdminToken;

/// Serves the admin endpoints on `listener` until the process exits:
/// ready once `loaded` is cancelled, draining once `shutdown` is.
pub async fn serve_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    loaded: CancellationToken,
    shutdown: CancellationToken,
    token: Option<Arc<AdminToken>>,
) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let (metrics, loaded, shutdown, token) = (metrics.clone(), loaded.clone(), shutdown.clone(), token.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let response = if request.uri().path() == "/metrics"
                    && let Some(token) = &token
                    && !token.allows(request.headers().get(http::header::AUTHORIZATION))
                {
                    unauthorized(request.headers().contains_key(http::header::AUTHORIZATION))
                } else {
                    answer(request.uri().path(), &metrics, &loaded, &shutdown)
                };
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

/// `401` for `/metrics` without the token (`given`: a wrong one was sent);
/// one log line, never the header's value.
fn unauthorized(given: bool) -> http::Response<Full<Bytes>> {
    let why = if given {
        "a wrong bearer token"
    } else {
        "no authorization header"
    };
    tracing::info!("admin: /metrics refused with 401: {why}");
    http::Response::builder()
        .status(401)
        .header(http::header::WWW_AUTHENTICATE, "Bearer")
        .header(http::header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(
            b"unauthorized: /metrics needs authorization: Bearer <the --admin-token-file token>\n",
        )))
        .expect("static response")
}

fn answer(
    path: &str,
    metrics: &Metrics,
    loaded: &CancellationToken,
    shutdown: &CancellationToken,
) -> http::Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        ),
        "/healthz" => (200, "text/plain", "ok\n".to_string()),
        "/readyz" if shutdown.is_cancelled() => (503, "text/plain", "draining\n".to_string()),
        "/readyz" if !loaded.is_cancelled() => (503, "text/plain", "loading\n".to_string()),
        "/readyz" => (200, "text/plain", "ready\n".to_string()),
        _ => (
            404,
            "text/plain",
            "not found: /metrics, /healthz, /readyz\n".to_string(),
        ),
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static response")
}
