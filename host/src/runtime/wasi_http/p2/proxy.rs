//! Standard `wasi:http/incoming-handler` components (the `wasi:http/proxy`
//! world), run with `wasmtime-wasi-http`: the request goes in as an
//! `incoming-request`, and the response the guest sets on its
//! `response-outparam` is streamed to `h2` (DATA frames as the guest writes,
//! then its trailers) or to hyper (HTTP/1.1). Its
//! `link: <...>; rel=preload` headers become pushes ([`crate::runtime::wasi_http::preload`]);
//! the runtime fills each by running the component again.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::SendStream;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use tokio::sync::oneshot;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::http2::request_body::StreamedBody;
use crate::http2::responder::Responder;
use crate::push::caller_state::CallerState;
use crate::push::generated::{WitError, WitPushPromise, WitRequest, WitResponse};
use crate::push::promised::PromisedStream;
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::preload::{self, Preload};

/// A guest's response, as `wasmtime-wasi-http` hands it over.
pub type GuestResponse = hyper::Response<HyperOutgoingBody>;

/// Largest body of a pushed response (read whole before it is pushed); a
/// larger one is not pushed.
pub const BUFFERED_BODY_MAX: usize = 16 << 20;

/// Preload links not pushed that are logged one by one per response.
const LOGGED_SKIPS: usize = 8;

/// How long instantiation and `handle` took.
#[derive(Default)]
pub struct Timing {
    /// Instantiation.
    pub instantiate: Option<Duration>,
    /// The `handle` call.
    pub handle: Option<Duration>,
}

/// A request body as the guest reads it.
type GuestBody = http_body_util::combinators::UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// The body a guest reads: streamed as it arrives, or the bytes already
/// read (moved in, not copied).
pub enum IncomingBody {
    /// An h2 body, as it arrives.
    Streamed(StreamedBody),
    /// A body read whole.
    Read(Vec<u8>),
}

/// The request (its body aside) as a hyper request with `body`.
fn incoming(request: &WitRequest, body: IncomingBody) -> wasmtime::Result<http::Request<GuestBody>> {
    let uri = http::Uri::builder()
        .scheme(request.scheme.as_str())
        .authority(request.authority.as_str())
        .path_and_query(request.path.as_str())
        .build()?;
    let mut builder = http::Request::builder().method(request.method.as_str()).uri(uri);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let body = match body {
        IncomingBody::Streamed(body) => body.boxed_unsync(),
        IncomingBody::Read(bytes) => http_body_util::Full::new(Bytes::from(bytes))
            .map_err(|never| match never {})
            .boxed_unsync(),
    };
    Ok(builder.body(body)?)
}

/// Calls the component's `handle` for `request` in `store` and meanwhile
/// hands the response it sets (or the error code it sets) to `deliver`.
/// The guest reads `body` (`request.body` is not used).
/// Returns the call's result, its timing, and what `deliver` returned
/// (`None`: the guest never set a response).
pub async fn exchange<D, R>(
    store: &mut Store<HostState>,
    pre: &ProxyPre<HostState>,
    request: &WitRequest,
    body: IncomingBody,
    deliver: D,
) -> (wasmtime::Result<()>, Timing, Option<R>)
where
    D: AsyncFnOnce(Result<GuestResponse, ErrorCode>) -> R,
{
    let mut timing = Timing::default();
    let (tx, mut rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let scheme = if request.scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let resources = incoming(request, body).and_then(|req| {
        let mut http = store.data_mut().http();
        Ok((http.new_incoming_request(scheme, req)?, http.new_response_outparam(tx)?))
    });
    let (req, out) = match resources {
        Ok(r) => r,
        Err(e) => return (Err(e), timing, None),
    };
    let timing_ref = &mut timing;
    // Cancelled when the call fails (a trap, the deadline): the response
    // body then ends in an error at once, which resets its stream, instead
    // of waiting for a writer that will never write again.
    let failed = CancellationToken::new();
    let failed_ref = &failed;
    let call = async move {
        let started = Instant::now();
        let result = async {
            let proxy = pre.instantiate_async(&mut *store).await?;
            let handling = Instant::now();
            timing_ref.instantiate = Some(handling - started);
            let result = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, req, out)
                .await;
            timing_ref.handle = Some(handling.elapsed());
            result
        }
        .await;
        if result.is_err() {
            failed_ref.cancel();
        }
        drop(done_tx);
        result
    };
    let receive = async {
        let response = tokio::select! {
            biased;
            r = &mut rx => r.ok(),
            _ = done_rx => rx.try_recv().ok(),
        };
        match response {
            // The call failed before its response went anywhere: the
            // request is answered as a failure (500 and the trap), not
            // with a response whose body will never come.
            Some(_) if failed.is_cancelled() => None,
            Some(response) => {
                let response = response.map(|r| r.map(|body| EndOnFailure::wrap(body, failed.clone())));
                Some(deliver(response).await)
            }
            None => None,
        }
    };
    let (result, delivered) = tokio::join!(call, receive);
    (result, timing, delivered)
}

/// A guest's response body that ends in an error as soon as `failed` is
/// cancelled (the call trapped or ran out of time): frames the guest wrote
/// before are not waited for, and the stream is reset at once.
struct EndOnFailure {
    body: HyperOutgoingBody,
    failed: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl EndOnFailure {
    fn wrap(body: HyperOutgoingBody, failed: CancellationToken) -> HyperOutgoingBody {
        EndOnFailure {
            body,
            failed: Box::pin(failed.cancelled_owned()),
        }
        .boxed_unsync()
    }
}

impl hyper::body::Body for EndOnFailure {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.failed.as_mut().poll(cx).is_ready() {
            let why = "the guest trapped or ran out of time while writing its body";
            return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(why.into())))));
        }
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

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
/// and its trailers.
pub async fn deliver_main(
    response: Result<GuestResponse, ErrorCode>,
    caller: &mut CallerState,
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
        Err(code) => return Delivered::Failed(format!("the component answered with error-code {code:?}")),
    };
    let (mut head, body) = response.into_parts();
    strip_connection_headers(&mut head.headers);
    let mut promised = Vec::new();
    if link_push && caller.can_push() {
        let (scheme, authority) = caller.origin();
        let targets = preload::targets(&head.headers, scheme, authority, path);
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
                    match caller.promise_stream(promise).await {
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
    }
    let head_only = caller.is_head();
    let status = head.status.as_u16();
    let Some(respond) = caller.take_for_stream(status) else {
        return Delivered::Failed("the response was already sent".into());
    };
    match respond {
        Responder::H2(mut send) => {
            let end = head_only || body.is_end_stream();
            let stream = match send.send_response(http::Response::from_parts(head, ()), end) {
                Ok(stream) => stream,
                Err(e) => return Delivered::Failed(format!("h2 refused the response: {e}")),
            };
            if head_only {
                // HEAD: no body goes out, but the guest may still write one;
                // read it so its writes do not fail.
                let mut body = body;
                while let Some(Ok(_)) = body.frame().await {}
            } else if !end && let Err(e) = stream_body(body, stream).await {
                tracing::info!("{tag}: response body not delivered: {e}");
            }
        }
        Responder::Http1(reply) => {
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
                // sent `te: trailers`).
                let body = body
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                    .boxed_unsync();
                let _ = reply.send(http::Response::from_parts(head, body));
            }
        }
    }
    caller.main_body_sent();
    Delivered::Sent(promised)
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
pub async fn buffered(response: Result<GuestResponse, ErrorCode>) -> Result<WitResponse, String> {
    let response = response.map_err(|code| format!("the component answered with error-code {code:?}"))?;
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
fn strip_connection_headers(headers: &mut http::HeaderMap) {
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
async fn collect(mut body: HyperOutgoingBody) -> Result<(Bytes, Option<http::HeaderMap>), String> {
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
/// A body error resets the stream with INTERNAL_ERROR.
async fn stream_body(mut body: HyperOutgoingBody, mut stream: SendStream<Bytes>) -> Result<(), String> {
    loop {
        let frame = match body.frame().await {
            None => {
                return stream.send_data(Bytes::new(), true).map_err(|e| e.to_string());
            }
            Some(Err(e)) => {
                stream.send_reset(h2::Reason::INTERNAL_ERROR);
                return Err(format!("the component's body failed: {e}"));
            }
            Some(Ok(frame)) => frame,
        };
        match frame.into_data() {
            Ok(mut chunk) => {
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
                    stream.send_data(part, false).map_err(|e| e.to_string())?;
                }
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    return stream.send_trailers(trailers).map_err(|e| e.to_string());
                }
            }
        }
    }
}
