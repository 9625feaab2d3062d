//! [`Response`] (a complete response) and [`ResponseHandle`] (a submitted
//! request: its promises, then its response).

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use http::{HeaderMap, StatusCode};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Error;
use crate::promise::{PushPromise, RefusedPromise};

/// A complete response: status, headers and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The headers (trailers, if any, are appended).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body (a cheap, reference-counted copy).
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|e| Error::NotText { reason: e.to_string() })
    }

    /// The body decoded from JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Json { reason: e.to_string() })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `Ok(self)` for a 2xx status, else [`Error::Status`] naming `request`
    /// (e.g. `GET /path`).
    pub fn error_for_status(self, request: &str) -> Result<Response, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(Error::Status {
                request: request.to_owned(),
                status: self.status,
            })
        }
    }
}

/// Reads a whole body, returning flow-control capacity as it goes.
pub(crate) async fn read_body(response: http::Response<RecvStream>, during: &str) -> Result<Response, Error> {
    let (parts, mut stream) = response.into_parts();
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.map_err(|e| Error::from_h2(e, during))?;
        append_chunk(&mut stream, &mut body, &chunk);
    }
    finish(parts, stream, body, during).await
}

/// Appends a received chunk and releases its flow-control capacity.
pub(crate) fn append_chunk(stream: &mut RecvStream, body: &mut BytesMut, chunk: &Bytes) {
    body.extend_from_slice(chunk);
    // Fails only if the stream is already gone; the next read reports that.
    let _ = stream.flow_control().release_capacity(chunk.len());
}

/// Reads the trailers (if any) once the data has ended.
pub(crate) async fn finish(
    parts: http::response::Parts,
    mut stream: RecvStream,
    body: BytesMut,
    during: &str,
) -> Result<Response, Error> {
    let mut headers = parts.headers;
    if let Some(trailers) = stream.trailers().await.map_err(|e| Error::from_h2(e, during))? {
        for (name, value) in &trailers {
            headers.append(name, value.clone());
        }
    }
    Ok(Response {
        status: parts.status,
        headers,
        body: body.freeze(),
    })
}

/// What the driver sends a [`ResponseHandle`] about promises.
#[derive(Debug)]
pub(crate) enum PromiseEvent {
    Promise(PushPromise),
    Refused(RefusedPromise),
}

/// A submitted request: first its promises, then its response.
///
/// The seed's walk is:
///
/// ```no_run
/// # async fn walk(mut handle: push_client::ResponseHandle) -> Result<(), push_client::Error> {
/// let mut wanted = Vec::new();
/// while handle.has_promise().await {
///     let promise = handle.next_promise().await.expect("has_promise said so");
///     if promise.path() == "/resource2" {
///         handle.reject(promise);
///     } else {
///         wanted.push(promise);
///     }
/// }
/// let response = handle.response().await?;
/// for promise in wanted {
///     let pushed = handle.promised_response(promise).await?;
///     println!("{}", pushed.text()?);
/// }
/// # Ok(()) }
/// ```
///
/// The main response and the promises are read together in the background,
/// as they arrive; promises are buffered here in arrival order. Promises can
/// arrive until the main response has ended, so [`has_promise`] answers
/// `false` only then. Dropping the handle before the response has been
/// received cancels the request and the promises not yet taken.
///
/// [`has_promise`]: ResponseHandle::has_promise
#[derive(Debug)]
pub struct ResponseHandle {
    request: String,
    stream_id: u32,
    events: mpsc::UnboundedReceiver<PromiseEvent>,
    peeked: Option<PushPromise>,
    refused: Vec<RefusedPromise>,
    response: Option<oneshot::Receiver<Result<Response, Error>>>,
    received: Option<Result<Response, Error>>,
    driver: JoinHandle<()>,
}

impl ResponseHandle {
    pub(crate) fn new(
        request: String,
        stream_id: u32,
        events: mpsc::UnboundedReceiver<PromiseEvent>,
        response: oneshot::Receiver<Result<Response, Error>>,
        driver: JoinHandle<()>,
    ) -> ResponseHandle {
        ResponseHandle {
            request,
            stream_id,
            events,
            peeked: None,
            refused: Vec::new(),
            response: Some(response),
            received: None,
            driver,
        }
    }

    /// The request, e.g. `GET /http2Service`.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The id of the request's stream.
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// Whether another promise is coming: waits for the next one, or for the
    /// main response to end (then `false`). Also `false` if the exchange
    /// failed; [`response`](Self::response) then returns the error.
    pub async fn has_promise(&mut self) -> bool {
        if self.peeked.is_none() {
            self.peeked = self.recv_promise().await;
        }
        self.peeked.is_some()
    }

    /// The next promise, in the order the server sent them; `None` once the
    /// main response has ended (or the exchange failed).
    ///
    /// Promises the client refused (RFC 9113 §8.4) are not returned; see
    /// [`refused_promises`](Self::refused_promises).
    pub async fn next_promise(&mut self) -> Option<PushPromise> {
        match self.peeked.take() {
            Some(promise) => Some(promise),
            None => self.recv_promise().await,
        }
    }

    async fn recv_promise(&mut self) -> Option<PushPromise> {
        loop {
            match self.events.recv().await? {
                PromiseEvent::Promise(promise) => return Some(promise),
                PromiseEvent::Refused(refused) => {
                    tracing::warn!("{refused}");
                    self.refused.push(refused);
                }
            }
        }
    }

    /// The promises refused so far (not delivered; each reported once its
    /// reset has gone out, with the code sent in
    /// [`RefusedPromise::reason`]), in arrival order. Complete once
    /// [`has_promise`](Self::has_promise) has returned `false`.
    pub fn refused_promises(&self) -> &[RefusedPromise] {
        &self.refused
    }

    /// Rejects `promise` (sends `RST_STREAM(CANCEL)`); same as
    /// [`PushPromise::reject`].
    pub fn reject(&self, promise: PushPromise) {
        promise.reject();
    }

    /// Waits for the main response and its whole body. Can be called again;
    /// later calls return the same result.
    pub async fn response(&mut self) -> Result<Response, Error> {
        if let Some(rx) = self.response.take() {
            let result = rx.await.unwrap_or_else(|_| {
                Err(Error::ConnectionClosed {
                    during: format!("waiting for the response to {}", self.request),
                    reason: "the request was dropped".into(),
                })
            });
            self.received = Some(result);
        }
        self.received.clone().expect("set above")
    }

    /// Waits for a promised response; same as [`PushPromise::response`].
    pub async fn promised_response(&self, promise: PushPromise) -> Result<Response, Error> {
        promise.response().await
    }
}

impl Drop for ResponseHandle {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
