//! A guest's response on its way out, for every version of `wasi:http`:
//! the main response ([`deliver_main`]: its preload links promised first,
//! then headers, then the body streamed under flow control and its
//! trailers, over h2 or HTTP/1.1), or a pushed one read whole
//! ([`buffered`]).

use bytes::Bytes;
use h2::SendStream;
use http_body_util::BodyExt;
use hyper::body::Body as _;

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::push::caller_state::{CallerState, HeadSent};
use crate::push::generated::{WitError, WitPushPromise, WitResponse};
use crate::push::promised::PromisedStream;
use crate::runtime::wasi_http::preload::{self, Preload};

/// A guest's response body, as `wasmtime-wasi-http` hands it over (the
/// same type for 0.2 and 0.3).
pub type GuestResponseBody = wasmtime_wasi_http::WasiBody;

/// A guest's response.
pub type GuestResponse = http::Response<GuestResponseBody>;

/// Largest body of a pushed response (read whole before it is pushed); a
/// larger one is not pushed.
pub const BUFFERED_BODY_MAX: usize = 16 << 20;

/// Preload links not pushed that are logged one by one per response.
const LOGGED_SKIPS: usize = 8;

/// What became of a main response.
pub enum Delivered {
    /// Sent (headers at least); the promises made for its preload links.
    Sent(Vec<PromisedStream>),
    /// The guest answered with an error code, or a response h2 refused.
    Failed(String),
}

/// Sends a guest's main response through `caller`: first a PUSH_PROMISE
/// for each same-origin preload link (when `link_push` and the client
/// accepts pushes), then the headers, then the body as the guest writes it
/// and its trailers. `caller` is locked only around the promises and the
/// head: while the body streams, a `push:handler@0.2` guest may promise
/// (see [`CallerState::send_head`]). Returns once the body is delivered
/// (or failed).
pub async fn deliver_main(
    response: Result<GuestResponse, String>,
    caller: &Mutex<CallerState>,
    link_push: bool,
    path: &str,
    tag: &str,
) -> Delivered {
    let response = match response {
        Ok(r) if r.status().is_informational() => {
            return Delivered::Failed(format!(
                "the component set an informational status ({}) as its response",
                r.status()
            ));
        }
        Ok(r) => r,
        Err(why) => return Delivered::Failed(why),
    };
    let (mut head, body) = response.into_parts();
    strip_connection_headers(&mut head.headers);
    let length = content_length(&head.headers);
    let mut c = caller.lock().await;
    let promised = if link_push && c.can_push() {
        promise_links(&mut c, &head.headers, path, tag).await
    } else {
        Vec::new()
    };
    let head_only = c.is_head();
    let end = head_only || body.is_end_stream();
    let body_open = c.body_open();
    let sent = c.send_head(http::Response::from_parts(head, ()), end);
    drop(c);
    match sent {
        Err(why) => return Delivered::Failed(why),
        Ok(HeadSent::H2(stream)) => {
            if head_only {
                // HEAD: no body goes out, but the guest may still write one;
                // read it so its writes do not fail.
                let mut body = body;
                while let Some(Ok(_)) = body.frame().await {}
            } else if let Some(stream) = stream
                && let Err(e) = stream_body(body, stream, &body_open, length).await
            {
                tracing::info!("{tag}: response body not delivered: {e}");
            }
        }
        Ok(HeadSent::Http1(reply, head)) => {
            let (head, ()) = head.into_parts();
            if head_only {
                let _ = reply.send(http::Response::from_parts(
                    head,
                    crate::http2::responder::full(Bytes::new()),
                ));
                let mut body = body;
                while let Some(Ok(_)) = body.frame().await {}
            } else {
                // hyper reads the body as the guest writes it (chunked
                // unless the guest set a length; trailers when the client
                // sent `te: trailers`). Done when hyper drops it: a 0.3
                // guest's writes need the store's event loop until then.
                let done = CancellationToken::new();
                let body = DoneOnDrop {
                    body,
                    _done: done.clone().drop_guard(),
                }
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                .boxed_unsync();
                if reply.send(http::Response::from_parts(head, body)).is_ok() {
                    done.cancelled().await;
                }
            }
        }
    }
    caller.lock().await.main_body_sent();
    Delivered::Sent(promised)
}

/// A response's declared body length.
pub fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// A PUSH_PROMISE for each same-origin preload link in `headers`.
async fn promise_links(c: &mut CallerState, headers: &http::HeaderMap, path: &str, tag: &str) -> Vec<PromisedStream> {
    let mut promised = Vec::new();
    let (scheme, authority) = c.origin();
    let targets = preload::targets(headers, scheme, authority, path);
    // One line per link not pushed, up to a few: a response with
    // thousands of links must not flood the log.
    let mut skipped = 0usize;
    let mut skip = |what: &str, why: &str| {
        skipped += 1;
        if skipped <= LOGGED_SKIPS {
            tracing::info!("{tag}: link {what} not pushed: {why}");
        }
    };
    let count = targets.len();
    for (i, target) in targets.into_iter().enumerate() {
        match target {
            Preload::Local(path) => {
                let promise = WitPushPromise {
                    method: "GET".into(),
                    path: path.clone(),
                    headers: Vec::new(),
                };
                match c.promise_stream(promise).await {
                    Ok(stream) => promised.push(stream),
                    Err(e @ WitError::LimitExceeded(_)) => {
                        // Every later one would fail the same way.
                        skip(&path, &why_not(&e));
                        skipped += count - i - 1;
                        break;
                    }
                    Err(e) => skip(&path, &why_not(&e)),
                }
            }
            Preload::Foreign(target) => skip(&target, "not this request's origin"),
        }
    }
    if skipped > LOGGED_SKIPS {
        tracing::info!("{tag}: {skipped} preload links not pushed in all");
    }
    promised
}

/// A body that cancels its token when dropped (hyper is done with it).
struct DoneOnDrop {
    body: GuestResponseBody,
    _done: tokio_util::sync::DropGuard,
}

impl hyper::body::Body for DoneOnDrop {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Why a preload link was not promised, for the log.
fn why_not(e: &WitError) -> String {
    match e {
        WitError::PushDisabled => "the client disabled push".into(),
        WitError::Refused => "already pushed or requested on this connection".into(),
        WitError::Invalid(why) | WitError::LimitExceeded(why) => why.clone(),
        WitError::AlreadyResponded => "the response was already sent".into(),
        WitError::Closed => "the stream is closed".into(),
    }
}

/// A pushed response: the guest's response read whole, for `push`.
pub async fn buffered(response: Result<GuestResponse, String>) -> Result<WitResponse, String> {
    let response = response?;
    let (mut head, body) = response.into_parts();
    strip_connection_headers(&mut head.headers);
    let (body, _trailers) = collect(body).await?;
    Ok(WitResponse {
        status: head.status.as_u16(),
        headers: head
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: body.to_vec(),
    })
}

/// Headers h2 forbids (RFC 9113 section 8.2.2); hyper's HTTP/1.1 sets its own.
pub fn strip_connection_headers(headers: &mut http::HeaderMap) {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// Reads a body whole (up to [`BUFFERED_BODY_MAX`]), with its trailers.
async fn collect(mut body: GuestResponseBody) -> Result<(Bytes, Option<http::HeaderMap>), String> {
    let mut data = bytes::BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the component's body failed: {e}"))?;
        match frame.into_data() {
            Ok(chunk) => {
                if data.len() + chunk.len() > BUFFERED_BODY_MAX {
                    return Err(format!("body over {BUFFERED_BODY_MAX} bytes"));
                }
                data.extend_from_slice(&chunk);
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    Ok((data.freeze(), trailers))
}

/// Streams `body` to `stream` under h2 flow control: each chunk as the
/// guest writes it, then the trailers (or an empty END_STREAM DATA frame).
/// When the body has a declared `length` and it is reached, the end is read
/// before the last chunk goes out, so that chunk carries END_STREAM (the
/// frames a whole body gets). A body error resets the stream with
/// INTERNAL_ERROR. `open` is cleared just before the stream ends (no
/// promise may follow).
pub async fn stream_body(
    mut body: GuestResponseBody,
    mut stream: SendStream<Bytes>,
    open: &AtomicBool,
    length: Option<u64>,
) -> Result<(), String> {
    let mut sent = 0u64;
    let mut ahead = None;
    loop {
        let frame = match ahead.take() {
            Some(frame) => frame,
            None => body.frame().await,
        };
        let frame = match frame {
            None => {
                open.store(false, Ordering::Release);
                return stream.send_data(Bytes::new(), true).map_err(|e| e.to_string());
            }
            Some(Err(e)) => {
                open.store(false, Ordering::Release);
                stream.send_reset(h2::Reason::INTERNAL_ERROR);
                return Err(format!("the component's body failed: {e}"));
            }
            Some(Ok(frame)) => frame,
        };
        match frame.into_data() {
            Ok(chunk) => {
                sent += chunk.len() as u64;
                let mut end = false;
                if !chunk.is_empty() && length == Some(sent) {
                    match body.frame().await {
                        None => end = true,
                        other => ahead = Some(other),
                    }
                }
                send_chunk(&mut stream, chunk, end, open).await?;
                if end {
                    return Ok(());
                }
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    open.store(false, Ordering::Release);
                    return stream.send_trailers(trailers).map_err(|e| e.to_string());
                }
            }
        }
    }
}

/// Sends `chunk` as flow control allows; with `end`, its last part ends the
/// stream (`open` cleared first).
async fn send_chunk(
    stream: &mut SendStream<Bytes>,
    mut chunk: Bytes,
    end: bool,
    open: &AtomicBool,
) -> Result<(), String> {
    while !chunk.is_empty() {
        stream.reserve_capacity(chunk.len());
        let granted = match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the stream closed".into()),
        };
        if granted == 0 {
            continue;
        }
        let part = chunk.split_to(granted.min(chunk.len()));
        let last = end && chunk.is_empty();
        if last {
            open.store(false, Ordering::Release);
        }
        stream.send_data(part, last).map_err(|e| e.to_string())?;
    }
    Ok(())
}
