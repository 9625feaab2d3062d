//! A request body handed to a `wasi:http` guest as it arrives, instead of
//! read whole before the guest starts (what `push:handler` guests get): an
//! `http_body::Body` over `h2`'s `RecvStream` that gives flow-control
//! window back as the guest reads, enforces `--max-body-bytes`, and passes
//! the client's trailers on.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::RecvStream;
use hyper::body::{Body, Frame};
use wasmtime_wasi_http::Error as HttpError;

/// An h2 request body, streamed.
pub struct StreamedBody {
    recv: RecvStream,
    max: usize,
    read: usize,
    data_done: bool,
    tag: std::sync::Arc<str>,
}

impl StreamedBody {
    /// The body of `recv`, at most `max` bytes (`tag` names the request in
    /// the log line of a body over the limit).
    pub fn new(recv: RecvStream, max: usize, tag: std::sync::Arc<str>) -> Self {
        StreamedBody {
            recv,
            max,
            read: 0,
            data_done: false,
            tag,
        }
    }

    /// Reads the rest whole (for a guest that takes its body as bytes).
    pub async fn read_all(mut self) -> Result<Vec<u8>, HttpError> {
        let mut all = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_frame(cx)).await {
            if let Ok(data) = frame?.into_data() {
                all.extend_from_slice(&data);
            }
        }
        Ok(all)
    }
}

impl Body for StreamedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        if !this.data_done {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(chunk)) => {
                    let _ = this.recv.flow_control().release_capacity(chunk.len());
                    this.read += chunk.len();
                    if this.read > this.max {
                        tracing::info!(
                            "{}: request body over {} bytes: the guest's read fails",
                            this.tag,
                            this.max
                        );
                        this.data_done = true;
                        return Poll::Ready(Some(Err(HttpError::HttpRequestBodySize(Some(this.read as u64)))));
                    }
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                Some(Err(e)) => {
                    this.data_done = true;
                    return Poll::Ready(Some(Err(HttpError::InternalError(Some(format!("request body: {e}"))))));
                }
                None => this.data_done = true,
            }
        }
        if this.read > this.max {
            return Poll::Ready(None);
        }
        match ready!(this.recv.poll_trailers(cx)) {
            Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Ok(None) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(HttpError::InternalError(Some(format!(
                "request trailers: {e}"
            )))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.recv.is_end_stream()
    }
}
