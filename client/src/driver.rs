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
//!
//! A refused promise is reported once its reset has gone out on the wire
//! (or is known not to), so that [`RefusedPromise::reason`] is what the
//! server was really sent.
//!
//! If the exchange fails before its head or any promise arrived, and the
//! server did not process the request, the driver sends it again on a new
//! connection ([`Retry`]) and carries on; the handle sees one exchange.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::BytesMut;
use futures_util::FutureExt;
use h2::client::{PushPromises, ResponseFuture};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::Error;
use crate::handle::PromiseEvent;
use crate::origin::Origin;
use crate::promise::{self, PushPromise, Refusal, RefusedPromise};
use crate::response::{Response, append_chunk, finish};
use crate::retry::{Failed, Retry, Sent};
use crate::wire::{RESET_WAIT, Tap};

/// One submitted request's background state.
pub(crate) struct Driver {
    pub(crate) origin: Arc<Origin>,
    /// The tap of the current attempt's connection.
    pub(crate) tap: Tap,
    /// E.g. `GET /path`, for error messages.
    pub(crate) request: String,
    pub(crate) events: mpsc::UnboundedSender<PromiseEvent>,
    /// Promised stream ids `h2` handed over (delivered or refused by us).
    seen: Vec<u32>,
    /// Refusals waiting for their reset to be written, in arrival order.
    pending: VecDeque<Pending>,
    /// Ticks when the tap has written a reset (or the connection is gone).
    resets: watch::Receiver<()>,
}

/// A refusal not reported yet.
struct Pending {
    refused: RefusedPromise,
    /// Whether a reset is on its way (else none will be sent).
    expect_reset: bool,
    /// When to stop waiting for that reset.
    deadline: Instant,
}

impl Driver {
    pub(crate) fn new(origin: Arc<Origin>, request: String, events: mpsc::UnboundedSender<PromiseEvent>) -> Driver {
        let tap = Tap::default();
        let resets = tap.subscribe();
        Driver {
            origin,
            tap,
            request,
            events,
            seen: Vec::new(),
            pending: VecDeque::new(),
            resets,
        }
    }

    /// Runs the exchange to its end, sending the request again while the
    /// server did not process it, and sends the response to `done`.
    pub(crate) async fn run(mut self, mut sent: Sent, retry: Retry, done: oneshot::Sender<Result<Response, Error>>) {
        let mut retry = Some(retry);
        loop {
            let Sent {
                generation,
                tap,
                mut response,
                stream,
            } = sent;
            self.resets = tap.subscribe();
            self.tap = tap;
            let stream_id = response.stream_id().as_u32();
            let mut promises = response.push_promises();
            let mut open = true;
            let result = self.exchange(response, &mut promises, &mut open, &mut retry).await;
            let result = match (result, retry.as_mut()) {
                (Err(failed), Some(retry)) if failed.unprocessed && self.seen.is_empty() => {
                    match retry.again(generation, failed.error).await {
                        Ok(next) => {
                            sent = next;
                            continue;
                        }
                        Err(error) => Err(error),
                    }
                }
                (result, _) => result.map_err(|failed| failed.error),
            };
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
            let _ = done.send(result);
            self.report_pending().await;
            drop(stream);
            drop(self.events);
            return;
        }
    }

    async fn exchange(
        &mut self,
        mut response: ResponseFuture,
        promises: &mut PushPromises,
        open: &mut bool,
        retry: &mut Option<Retry>,
    ) -> Result<Response, Failed> {
        let stream_id = response.stream_id().as_u32();
        let during = format!("waiting for the response to {}", self.request);
        let head = loop {
            tokio::select! {
                biased;
                next = promises.push_promise(), if *open => *open = self.on_promise(next),
                _ = self.resets.changed(), if !self.pending.is_empty() => self.report_settled(),
                head = &mut response => {
                    break head.map_err(|e| Failed::classify(e, stream_id, &self.tap, &during))?;
                }
            }
        };
        // The server has answered: never sent again from here on.
        *retry = None;
        let processed = |error| Failed {
            error,
            unprocessed: false,
        };
        let during = format!("receiving the response to {}", self.request);
        let (parts, mut stream) = head.into_parts();
        let mut body = BytesMut::new();
        loop {
            tokio::select! {
                biased;
                next = promises.push_promise(), if *open => *open = self.on_promise(next),
                _ = self.resets.changed(), if !self.pending.is_empty() => self.report_settled(),
                chunk = stream.data() => match chunk {
                    Some(chunk) => {
                        let chunk = chunk.map_err(|e| processed(Error::from_h2(e, &*during)))?;
                        append_chunk(&mut stream, &mut body, &chunk);
                    }
                    None => break,
                },
            }
        }
        finish(parts, stream, body, &during).await.map_err(processed)
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
        match promise::check(&self.origin, &request) {
            Ok(()) => {
                let promise = PushPromise::new(request, response, self.tap.clone());
                // The handle may be gone; dropping the event then cancels the push.
                let _ = self.events.send(PromiseEvent::Promise(promise));
            }
            Err(refusal) => {
                // Dropping the last handle makes h2 send RST_STREAM(CANCEL)
                // (unless the stream is over); the tap turns it into
                // PROTOCOL_ERROR on the wire.
                self.tap.refuse(stream_id);
                let expect_reset = !promise::is_over(response);
                let (parts, ()) = request.into_parts();
                let refused = RefusedPromise::new(stream_id, Some(parts.method), Some(parts.uri), refusal);
                self.defer(refused, expect_reset);
            }
        }
        true
    }

    /// Notes promises seen on the wire that `h2` never handed over: it
    /// reset them itself (RFC 9113 §8.4 method and body checks, or too many
    /// open pushes).
    fn report_refused_by_h2(&mut self, wire_promises: Vec<u32>) {
        for stream_id in wire_promises {
            if !self.seen.contains(&stream_id) {
                let refused = RefusedPromise::new(stream_id, None, None, Refusal::RefusedByProtocolLayer);
                self.defer(refused, true);
            }
        }
    }

    /// Queues a refusal until its reset has gone out.
    fn defer(&mut self, refused: RefusedPromise, expect_reset: bool) {
        self.pending.push_back(Pending {
            refused,
            expect_reset,
            deadline: Instant::now() + RESET_WAIT,
        });
        self.report_settled();
    }

    /// Reports the refusals, in order, whose reset has gone out or will not.
    fn report_settled(&mut self) {
        while let Some(next) = self.pending.front() {
            let stream_id = next.refused.stream_id;
            let reset = match self.tap.settled(stream_id) {
                Some(reset) => reset,
                None if !next.expect_reset || Instant::now() >= next.deadline => None,
                None => break,
            };
            let next = self.pending.pop_front().expect("just seen");
            let refused = next.refused.with_reset(reset);
            let _ = self.events.send(PromiseEvent::Refused(refused));
        }
    }

    /// Reports every pending refusal, waiting for their resets (each up to
    /// its deadline).
    async fn report_pending(&mut self) {
        loop {
            self.report_settled();
            let Some(next) = self.pending.front() else { break };
            let deadline = next.deadline;
            // On timeout the next `report_settled` gives up on that one.
            let _ = tokio::time::timeout_at(deadline, self.resets.changed()).await;
        }
    }
}
