//! The `promised` resource of the `caller` interface: a promised stream the
//! guest has not pushed yet. `caller_state.rs` creates it (`promise`) and
//! sends on it (`push`); the generated bindings name it (`with:`).

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use h2::server::SendPushedResponse;
use tokio::sync::watch;

use crate::http2::conn::{ConnShared, PushSlot};

/// A promised stream the guest has not pushed yet. Dropping it resets the
/// stream with CANCEL, so the client never waits for a push that won't come.
pub struct PromisedStream {
    pub(crate) path: String,
    pub(crate) head: bool,
    pub(crate) send: Option<SendPushedResponse<Bytes>>,
    pub(crate) slot: Option<PushSlot>,
    pub(crate) tag: Arc<str>,
    pub(crate) main_sent: watch::Receiver<bool>,
    pub(crate) conn: Arc<ConnShared>,
}

impl Drop for PromisedStream {
    fn drop(&mut self) {
        if let Some(mut send) = self.send.take() {
            self.conn.end_push(send.stream_id().as_u32());
            tracing::info!(
                "{}: promised {} dropped without push; resetting stream {} with CANCEL",
                self.tag,
                self.path,
                send.stream_id().as_u32()
            );
            send.send_reset(h2::Reason::CANCEL);
        }
    }
}

/// Polls `f` once without waiting: `Some` if the stream already has a reset or an error.
pub(crate) fn reset_now(f: impl FnOnce(&mut Context<'_>) -> Poll<Result<h2::Reason, h2::Error>>) -> Option<String> {
    match f(&mut Context::from_waker(Waker::noop())) {
        Poll::Pending => None,
        Poll::Ready(Ok(reason)) => Some(format!("reset by the client ({reason:?})")),
        Poll::Ready(Err(e)) => Some(e.to_string()),
    }
}

impl PromisedStream {
    /// The promised path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the client has already reset (refused) the stream, or it was
    /// pushed.
    pub fn is_refused(&mut self) -> bool {
        let Some(send) = self.send.as_mut() else {
            return true;
        };
        reset_now(|cx| send.poll_reset(cx)).is_some()
    }
}
