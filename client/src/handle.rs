//! [`ResponseHandle`]: a submitted request, its promises, then its response.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Error;
use crate::promise::{PushPromise, RefusedPromise};
use crate::response::Response;
use crate::retry::Progress;

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
    progress: Arc<Progress>,
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
        progress: Arc<Progress>,
        events: mpsc::UnboundedReceiver<PromiseEvent>,
        response: oneshot::Receiver<Result<Response, Error>>,
        driver: JoinHandle<()>,
    ) -> ResponseHandle {
        ResponseHandle {
            request,
            progress,
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

    /// The id of the request's stream (of its latest attempt, if it was
    /// sent again).
    pub fn stream_id(&self) -> u32 {
        self.progress.stream_id.load(Ordering::Relaxed)
    }

    /// How many times the request was sent again on a new connection
    /// because the server had not processed it (see
    /// [`ClientBuilder::max_retries`](crate::ClientBuilder::max_retries)).
    /// Final once the response has been received.
    pub fn retries(&self) -> u32 {
        self.progress.retries.load(Ordering::Relaxed)
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
