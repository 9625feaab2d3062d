//! What every version's exchange shares: the request as the guest reads
//! it ([`IncomingBody`], [`incoming`]), how long the call took
//! ([`Timing`]), and a response body that fails at once when the call does
//! ([`EndOnFailure`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::http2::request_body::StreamedBody;
use crate::push::generated::WitRequest;
use crate::runtime::wasi_http::deliver::GuestResponseBody;

/// How long instantiation and `handle` took.
#[derive(Default)]
pub struct Timing {
    /// Instantiation.
    pub instantiate: Option<Duration>,
    /// The `handle` call.
    pub handle: Option<Duration>,
}

/// A request body as the guest reads it.
pub type GuestBody = http_body_util::combinators::UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// The body a guest reads: streamed as it arrives, or the bytes already
/// read (moved in, not copied).
pub enum IncomingBody {
    /// An h2 body, as it arrives.
    Streamed(StreamedBody),
    /// A body read whole.
    Read(Vec<u8>),
}

/// The request (its body aside) as a hyper request with `body`.
pub fn incoming(request: &WitRequest, body: IncomingBody) -> wasmtime::Result<http::Request<GuestBody>> {
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

/// A guest's response body that ends in an error as soon as `failed` is
/// cancelled (the call trapped or ran out of time): frames the guest wrote
/// before are not waited for, and the stream is reset at once.
pub struct EndOnFailure {
    body: GuestResponseBody,
    failed: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl EndOnFailure {
    /// `body`, ending in an error as soon as `failed` is cancelled.
    pub fn wrap(body: GuestResponseBody, failed: CancellationToken) -> GuestResponseBody {
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
