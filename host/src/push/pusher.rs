//! The resources of `push:handler/push@0.2.0` (a `wasi:http@0.3` guest's
//! push): a [`Pusher`] is bound to one incoming request's [`PushSide`]
//! (its [`CallerState`], counts and failure token); a [`Promised`] is a
//! promised stream with a hold on that request's [`Outstanding`] count, so
//! the request's call goes on until every promise is answered (or dropped)
//! and every pushed body is sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use tokio::sync::{Mutex, watch};
use tokio_util::sync::CancellationToken;

use crate::push::caller_state::CallerState;
use crate::push::promised::PromisedStream;

/// The push side of one incoming request: what its pusher and promises
/// share with the host's handling of that request (and of no other, even
/// when one instance serves several at once).
#[derive(Clone)]
pub struct PushSide {
    /// The request's state, shared with the host's delivery of its response.
    pub caller: Arc<Mutex<CallerState>>,
    /// Its promises unanswered and pushed bodies unsent.
    pub outstanding: Outstanding,
    /// Cancelled when its call fails: its pushed bodies then reset at once.
    pub failed: CancellationToken,
    /// Its pushes sent and refused, for its report.
    pub counts: Arc<PushCounts>,
}

impl PushSide {
    /// The push side of the request whose state is `caller`.
    pub fn new(caller: Arc<Mutex<CallerState>>) -> Self {
        PushSide {
            caller,
            outstanding: Outstanding::default(),
            failed: CancellationToken::new(),
            counts: Arc::default(),
        }
    }
}

/// Pushes of one request, as counted by `push`.
#[derive(Default)]
pub struct PushCounts {
    /// Accepted and sent.
    pub pushed: AtomicU32,
    /// The client had refused them.
    pub refused: AtomicU32,
}

/// The push side of one incoming request (the `pusher` resource).
pub struct Pusher {
    /// The request's push side.
    pub side: PushSide,
}

/// A promised stream of a `push:handler@0.2` guest (the `promised` resource).
pub struct Promised {
    /// The stream; taken by `push`.
    pub stream: PromisedStream,
    /// Keeps the request's event loop alive until pushed or dropped.
    pub hold: Hold,
    /// The request's push side.
    pub side: PushSide,
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

    /// Whether nothing is outstanding now.
    pub fn is_settled(&self) -> bool {
        *self.0.borrow() == 0
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
    /// Each incoming request's push side by its `request` resource's
    /// index, until its pusher is taken.
    pub requests: HashMap<u32, PushSide>,
}
