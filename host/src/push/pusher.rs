//! The resources of `push:handler/push@0.2.0` (a `wasi:http@0.3` guest's
//! push): a [`Pusher`] is bound to one incoming request's
//! [`CallerState`]; a [`Promised`] is a promised stream with a hold on the
//! request's [`Outstanding`] count, so the store's event loop runs until
//! every promise is answered (or dropped) and every pushed body is sent.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, watch};
use tokio_util::sync::CancellationToken;

use crate::push::caller_state::CallerState;
use crate::push::promised::PromisedStream;

/// The push side of one incoming request (the `pusher` resource).
pub struct Pusher {
    /// The request's state, shared with the host's delivery of its response.
    pub caller: Arc<Mutex<CallerState>>,
}

/// A promised stream of a `push:handler@0.2` guest (the `promised` resource).
pub struct Promised {
    /// The stream; taken by `push`.
    pub stream: PromisedStream,
    /// Keeps the request's event loop alive until pushed or dropped.
    pub hold: Hold,
}

/// Promises not yet answered and pushed bodies not yet sent, for one
/// request: its store's event loop runs until the count is back to zero.
#[derive(Clone)]
pub struct Outstanding(Arc<watch::Sender<usize>>);

impl Default for Outstanding {
    fn default() -> Self {
        Outstanding(Arc::new(watch::Sender::new(0)))
    }
}

impl Outstanding {
    /// One more thing to wait for, until the [`Hold`] is dropped.
    pub fn hold(&self) -> Hold {
        self.0.send_modify(|n| *n += 1);
        Hold(self.0.clone())
    }

    /// Waits until nothing is outstanding.
    pub async fn settled(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// A hold on an [`Outstanding`] count, released on drop.
pub struct Hold(Arc<watch::Sender<usize>>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// What a 0.3 instance's store knows of the requests it serves.
#[derive(Default)]
pub struct P3Request {
    /// Each incoming request's state by its `request` resource's index,
    /// until its pusher is taken.
    pub requests: HashMap<u32, Arc<Mutex<CallerState>>>,
    /// Promises unanswered and pushed bodies unsent: the event loop runs on
    /// until none is left.
    pub outstanding: Outstanding,
    /// Cancelled when the call fails: pushed bodies then reset at once.
    pub failed: CancellationToken,
    /// Pushes accepted and refused, for the request's report.
    pub pushed: u32,
    /// Pushes the client had refused.
    pub refused: u32,
}
