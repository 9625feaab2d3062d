//! [`Retry`]: sending a request again, on a new connection, when the server
//! did not process it (RFC 9113 §8.7).
//!
//! Three signs say a request was not processed: it could not be sent (the
//! connection broke as it was submitted), the server reset its stream with
//! `REFUSED_STREAM`, or the stream is above the last-stream-id of a
//! `GOAWAY` the server sent (read by the [`Tap`], which sees the frame
//! itself). Anything else (a connection dropped with no `GOAWAY`, a stream
//! at or below its last-stream-id) may have been processed and is reported,
//! never sent twice. The driver asks for a retry only before anything of
//! the exchange (a promise, the response head) has reached the caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use h2::SendStream;
use h2::client::ResponseFuture;
use http::{HeaderMap, Method};

use crate::Error;
use crate::link::{Conn, Shared};
use crate::wire::Tap;

/// What a request's handle can see of its attempts.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The stream id of the latest attempt.
    pub(crate) stream_id: AtomicU32,
    /// Times the request was sent again.
    pub(crate) retries: AtomicU32,
}

/// One attempt on the wire.
pub(crate) struct Sent {
    /// The connection's generation (see [`Shared::renew`]).
    pub(crate) generation: u64,
    pub(crate) tap: Tap,
    pub(crate) response: ResponseFuture,
    pub(crate) stream: SendStream<Bytes>,
}

/// A request kept so it can be sent again.
pub(crate) struct Retry {
    shared: Arc<Shared>,
    /// E.g. `GET /path`, for error messages.
    label: String,
    request: http::Request<()>,
    body: Bytes,
    progress: Arc<Progress>,
}

/// A failed attempt, and whether the server did not process it.
pub(crate) struct Failed {
    pub(crate) error: Error,
    pub(crate) unprocessed: bool,
}

impl Failed {
    /// Classifies `err` on stream `stream_id` of the connection `tap`
    /// watches.
    pub(crate) fn classify(err: h2::Error, stream_id: u32, tap: &Tap, during: &str) -> Failed {
        let refused = err.is_reset() && err.is_remote() && err.reason() == Some(h2::Reason::REFUSED_STREAM);
        Failed {
            unprocessed: refused || tap.not_processed(stream_id),
            error: Error::from_h2(err, during),
        }
    }
}

impl Retry {
    pub(crate) fn new(
        shared: Arc<Shared>,
        label: String,
        method: Method,
        uri: String,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Retry, Error> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .map_err(|e| Error::InvalidRequest { reason: e.to_string() })?;
        *request.headers_mut() = headers;
        Ok(Retry {
            shared,
            label,
            request,
            body,
            progress: Arc::default(),
        })
    }

    pub(crate) fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Sends the request on the client's connection (a new one if the
    /// server has gone away from it).
    pub(crate) async fn send_first(&mut self) -> Result<Sent, Error> {
        let conn = self.shared.for_new_request().await?;
        self.send_on(conn).await
    }

    /// Sends the request again after `failed`, an attempt on connection
    /// `generation` the server did not process; `failed`'s error if no
    /// retry is left.
    pub(crate) async fn again(&mut self, generation: u64, failed: Error) -> Result<Sent, Error> {
        if !self.take_retry() {
            return Err(failed);
        }
        tracing::debug!(request = %self.label, "not processed ({failed}); sending it again");
        // After REFUSED_STREAM the connection may still serve; after a
        // GOAWAY a new one is needed.
        let conn = self.shared.usable(generation).await?;
        self.send_on(conn).await
    }

    /// Counts one retry if the budget allows.
    fn take_retry(&self) -> bool {
        let retries = self.progress.retries.load(Ordering::Relaxed);
        if retries >= self.shared.max_retries() {
            return false;
        }
        self.progress.retries.store(retries + 1, Ordering::Relaxed);
        self.shared.retried.fetch_add(1, Ordering::Relaxed);
        true
    }

    async fn send_on(&mut self, mut conn: Conn) -> Result<Sent, Error> {
        loop {
            match self.try_send(&conn).await {
                Ok(sent) => return Ok(sent),
                Err(failed) if failed.unprocessed && self.take_retry() => {
                    tracing::debug!(request = %self.label, "not sent ({}); sending it again", failed.error);
                    conn = self.shared.renew(conn.generation).await?;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    async fn try_send(&self, conn: &Conn) -> Result<Sent, Failed> {
        let during = format!("submitting {}", self.label);
        // Errors before a stream exists come from the connection (gone
        // away, broken) or from the request itself (`InvalidRequest`).
        let never_sent = |err: h2::Error| {
            let error = Error::from_h2(err, &*during);
            Failed {
                unprocessed: !matches!(error, Error::InvalidRequest { .. }),
                error,
            }
        };
        let mut send = conn.send.clone().ready().await.map_err(never_sent)?;
        let end_of_stream = self.body.is_empty();
        let (response, mut stream) = send
            .send_request(self.request.clone(), end_of_stream)
            .map_err(never_sent)?;
        let stream_id = response.stream_id().as_u32();
        self.progress.stream_id.store(stream_id, Ordering::Relaxed);
        if !end_of_stream {
            stream
                .send_data(self.body.clone(), true)
                .map_err(|e| Failed::classify(e, stream_id, &conn.tap, &during))?;
        }
        Ok(Sent {
            generation: conn.generation,
            tap: conn.tap.clone(),
            response,
            stream,
        })
    }
}
