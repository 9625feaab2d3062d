//! The background task behind each [`ResponseHandle`](crate::ResponseHandle):
//! reads the main response and the promises together.
//!
//! Why together, in one task: `h2` 0.4 does not wake a pending
//! `PushPromises::push_promise()` when the parent stream's END_STREAM arrives
//! on a DATA frame (hyperium/h2#811), so waiting for promises alone can hang
//! forever. Here the body is read in the same `select!`; once it has ended,
//! the promise stream is polled afresh, which returns the promises still
//! queued and then `None` without waiting.
//!
//! The promises are also taken before the response future is awaited: a
//! server may send PUSH_PROMISE before the response HEADERS.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use h2::SendStream;
use h2::client::{PushPromises, ResponseFuture};
use tokio::sync::{mpsc, oneshot};

use crate::Error;
use crate::connection::Origin;
use crate::promise::{self, PushPromise, Refusal, RefusedPromise};
use crate::response::{PromiseEvent, Response, append_chunk, finish};
use crate::wire::Tap;

/// One submitted request's background state.
pub(crate) struct Driver {
    pub(crate) origin: Arc<Origin>,
    pub(crate) tap: Tap,
    /// E.g. `GET /path`, for error messages.
    pub(crate) request: String,
    pub(crate) events: mpsc::UnboundedSender<PromiseEvent>,
    /// Promised stream ids `h2` handed over (delivered or refused by us).
    seen: Vec<u32>,
}

impl Driver {
    pub(crate) fn new(
        origin: Arc<Origin>,
        tap: Tap,
        request: String,
        events: mpsc::UnboundedSender<PromiseEvent>,
    ) -> Driver {
        Driver {
            origin,
            tap,
            request,
            events,
            seen: Vec::new(),
        }
    }

    /// Runs the exchange to its end and sends the response to `done`.
    pub(crate) async fn run(
        mut self,
        mut response: ResponseFuture,
        send: SendStream<Bytes>,
        done: oneshot::Sender<Result<Response, Error>>,
    ) {
        let stream_id = response.stream_id().as_u32();
        let mut promises = response.push_promises();
        let mut open = true;
        let result = self.exchange(response, &mut promises, &mut open).await;
        // The body has ended (or failed): whatever promises h2 still queues
        // are ready now; a fresh poll returns them, then `None`.
        while open {
            match promises.push_promise().now_or_never() {
                Some(next) => open = self.on_promise(next),
                None => break,
            }
        }
        let wire_promises = self.tap.take_promised(stream_id);
        if result.is_ok() {
            // After a failure the wire may show a promise h2 never got to.
            self.report_refused_by_h2(wire_promises);
        }
        drop(send);
        drop(self.events);
        let _ = done.send(result);
    }

    async fn exchange(
        &mut self,
        mut response: ResponseFuture,
        promises: &mut PushPromises,
        open: &mut bool,
    ) -> Result<Response, Error> {
        let during = format!("waiting for the response to {}", self.request);
        let head = loop {
            tokio::select! {
                biased;
                next = promises.push_promise(), if *open => *open = self.on_promise(next),
                head = &mut response => break head.map_err(|e| Error::from_h2(e, &*during))?,
            }
        };
        let during = format!("receiving the response to {}", self.request);
        let (parts, mut stream) = head.into_parts();
        let mut body = BytesMut::new();
        loop {
            tokio::select! {
                biased;
                next = promises.push_promise(), if *open => *open = self.on_promise(next),
                chunk = stream.data() => match chunk {
                    Some(chunk) => {
                        let chunk = chunk.map_err(|e| Error::from_h2(e, &*during))?;
                        append_chunk(&mut stream, &mut body, &chunk);
                    }
                    None => break,
                },
            }
        }
        finish(parts, stream, body, &during).await
    }

    /// Handles one poll result of the promise stream; `false` once it is
    /// over.
    fn on_promise(&mut self, next: Option<Result<h2::client::PushPromise, h2::Error>>) -> bool {
        let promise = match next {
            Some(Ok(promise)) => promise,
            Some(Err(e)) => {
                // The parent stream failed; its own read reports the error.
                tracing::debug!(request = %self.request, "promise stream ended: {e}");
                return false;
            }
            None => return false,
        };
        let (request, response) = promise.into_parts();
        let stream_id = response.stream_id().as_u32();
        self.seen.push(stream_id);
        let event = match promise::check(&self.origin, &request) {
            Ok(()) => PromiseEvent::Promise(PushPromise::new(request, response)),
            Err(refusal) => {
                // Dropping the last handle makes h2 send RST_STREAM(CANCEL);
                // the tap turns it into PROTOCOL_ERROR on the wire.
                self.tap.refuse(stream_id);
                drop(response);
                let (parts, ()) = request.into_parts();
                PromiseEvent::Refused(RefusedPromise {
                    stream_id,
                    method: Some(parts.method),
                    uri: Some(parts.uri),
                    refusal,
                })
            }
        };
        // The handle may be gone; dropping the event then cancels the push.
        let _ = self.events.send(event);
        true
    }

    /// Reports promises seen on the wire that `h2` never handed over: it
    /// reset them itself (RFC 9113 §8.4 method and body checks).
    fn report_refused_by_h2(&mut self, wire_promises: Vec<u32>) {
        for stream_id in wire_promises {
            if !self.seen.contains(&stream_id) {
                let _ = self.events.send(PromiseEvent::Refused(RefusedPromise {
                    stream_id,
                    method: None,
                    uri: None,
                    refusal: Refusal::RefusedByProtocolLayer,
                }));
            }
        }
    }
}
