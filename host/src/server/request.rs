//! One request stream: read the request, run its handler, and answer a
//! failure with a status and a log line that names the cause.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use h2::RecvStream;
use h2::server::SendResponse;

use crate::handler::{Failure, Handler};
use crate::http2::conn::ConnShared;
use crate::http2::request_body::StreamedBody;
use crate::http2::responder::Responder;
use crate::http2::validate;
use crate::ops::metrics::{Metrics, Report};
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;

/// A request counted in the server's in-flight total until dropped (what a
/// shutdown past its timeout reports as cut).
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub(crate) fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) async fn handle_stream<H: Handler>(
    runtime: Arc<H>,
    conn: Arc<ConnShared>,
    inflight: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    let started = Instant::now();
    let _active = conn.request_started();
    let _inflight = InFlight::new(inflight);
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let tag = request_tag(conn.id, respond.stream_id().as_u32(), parts.method.as_str(), &path);
    let limits = runtime.limits();
    let authority = validate::authority_of(&parts).unwrap_or_default();
    let (body, streamed) = if runtime.streams_body(&authority, &path) {
        // A wasi:http guest reads the body as it arrives; a declared length
        // over the limit is refused at once, as for bodies read whole.
        if declared_length(&parts.headers).is_some_and(|len| len > limits.max_body_bytes as u64) {
            too_large(Responder::H2(respond), &tag, limits.max_body_bytes);
            return;
        }
        let streamed = StreamedBody::new(body, limits.max_body_bytes, tag.clone());
        (Vec::new(), Some(streamed))
    } else {
        match read_body(body, &parts.headers, limits.max_body_bytes).await {
            Ok(body) => (body, None),
            Err(BodyError::TooLarge) => {
                too_large(Responder::H2(respond), &tag, limits.max_body_bytes);
                return;
            }
            Err(BodyError::Stream(e)) => {
                tracing::info!("{tag}: request body not received: {e}");
                return;
            }
        }
    };
    run(
        &*runtime,
        conn,
        parts,
        path,
        body,
        streamed,
        Responder::H2(respond),
        tag,
        started,
        &metrics,
    )
    .await;
}

/// Answers a request whose body is over the limit (the handler is not run).
pub(crate) fn too_large(respond: Responder, tag: &str, max: usize) {
    let msg = format!("request body exceeds {max} bytes");
    tracing::warn!("{tag}: {msg}: 413, handler not run");
    respond.send_error(413, &msg, None);
}

/// Runs the handler for a request whose body has been read, answers its
/// failure (if nothing was sent yet) and logs the request's one line.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<H: Handler>(
    runtime: &H,
    conn: Arc<ConnShared>,
    parts: http::request::Parts,
    path: String,
    body: Vec<u8>,
    streamed: Option<StreamedBody>,
    respond: Responder,
    tag: Arc<str>,
    started: Instant,
    metrics: &Arc<Metrics>,
) {
    let limits = runtime.limits();
    let request = WitRequest {
        method: parts.method.to_string(),
        scheme: parts.uri.scheme_str().unwrap_or("http").to_string(),
        authority: validate::authority_of(&parts).unwrap_or_default(),
        path,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
            .collect(),
        body,
    };
    if matches!(parts.method, http::Method::GET | http::Method::HEAD) {
        conn.diary_insert(&request.authority, &request.path);
    }
    let protocol = match respond {
        Responder::H2(_) => "h2",
        Responder::Http1(_) => "http/1.1",
    };
    let mut caller = CallerState::new(respond, &parts, conn, limits, tag.clone());
    if let Some(body) = streamed {
        caller.set_body_stream(body);
    }
    let (unanswered, failure, report) = runtime.run(request, caller, tag.clone()).await;
    let ms = started.elapsed().as_millis();
    let (status, public, detail, retry, kind) = match failure {
        None if unanswered.is_none() => {
            let status = report.status.unwrap_or(0);
            log_request!(info, report, status, protocol, "{tag}: handled in {ms} ms");
            count(metrics, &report, status, protocol, None);
            return;
        }
        None => (
            500,
            "handler returned without a response".to_string(),
            String::new(),
            None,
            None,
        ),
        Some(Failure::TimedOut(limit)) => (
            504,
            format!("handler timed out after {} ms", limit.as_millis()),
            String::new(),
            None,
            Some("timeout"),
        ),
        Some(Failure::Trapped { kind, detail }) => {
            let metric = if kind.contains("memory") { "memory" } else { "trap" };
            (
                500,
                format!("guest trapped: {kind}"),
                format!(": {detail}"),
                None,
                Some(metric),
            )
        }
        Some(Failure::NotFound(why)) => (404, why, String::new(), None, None),
        Some(Failure::PoolFull(why)) => (
            503,
            format!("instance pool full: {why}"),
            String::new(),
            Some("1"),
            Some("busy"),
        ),
        Some(Failure::Errored(why)) => (500, why, String::new(), None, Some("error")),
        Some(Failure::Busy { waited, running }) => (
            503,
            format!("no instance free within {} ms ({running} running)", waited.as_millis()),
            String::new(),
            Some("1"),
            Some("busy"),
        ),
    };
    match unanswered {
        Some(respond) => {
            log_request!(
                warn,
                report,
                status,
                protocol,
                "{tag}: {status}: {public} (after {ms} ms){detail}"
            );
            respond.send_error(status, &public, retry);
            count(metrics, &report, status, protocol, kind);
        }
        None => {
            let sent = report.status.unwrap_or(0);
            log_request!(
                warn,
                report,
                sent,
                protocol,
                "{tag}: {public} after the response was sent (after {ms} ms){detail}"
            );
            count(metrics, &report, sent, protocol, kind);
        }
    }
}

/// `conn=1 stream=3 GET /path`: what every log line about a request starts
/// with (built without `format!`: it is made for every request).
fn request_tag(conn: u64, stream: u32, method: &str, path: &str) -> Arc<str> {
    let (mut a, mut b) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (conn, stream) = (a.format(conn), b.format(stream));
    let mut tag = String::with_capacity(16 + conn.len() + stream.len() + method.len() + path.len());
    for part in ["conn=", conn, " stream=", stream, " ", method, " ", path] {
        tag.push_str(part);
    }
    tag.into()
}

/// Logs a request's one line, with its report as structured fields
/// (`--log-format json` keeps them as JSON fields).
macro_rules! log_request {
    ($level:ident, $report:expr, $status:expr, $protocol:expr, $($message:tt)+) => {
        tracing::$level!(
            tenant = %$report.tenant_name(),
            status = $status,
            protocol = $protocol,
            promised = $report.promised,
            pushed = $report.pushed,
            refused = $report.refused,
            hinted = $report.hinted,
            instantiate_us = $report.instantiate.map_or(0, |d| d.as_micros() as u64),
            handle_us = $report.handle.map_or(0, |d| d.as_micros() as u64),
            $($message)+
        )
    };
}
use log_request;

/// Counts a finished request in the metrics (its tenant's series, or the
/// unrouted ones).
fn count(metrics: &Arc<Metrics>, report: &Report, status: u16, protocol: &'static str, failure: Option<&str>) {
    match &report.tenant {
        Some(tenant) => tenant.count(report, status, protocol, failure),
        None => metrics.tenant("").count(report, status, protocol, failure),
    }
}

/// The request's `content-length`, if it has a valid one.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

enum BodyError {
    TooLarge,
    Stream(h2::Error),
}

/// Reads the whole request body, releasing flow-control capacity as it goes.
async fn read_body(mut body: RecvStream, headers: &http::HeaderMap, max: usize) -> Result<Vec<u8>, BodyError> {
    let declared = declared_length(headers);
    if declared.is_some_and(|len| len > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(BodyError::Stream)?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if buf.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}
