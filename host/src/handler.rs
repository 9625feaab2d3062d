//! What the server runs for each request: a [`Handler`]. The wasm component
//! ([`crate::Runtime`]) is the real one; [`crate::native::NativeSeed`] is the
//! seed service compiled into the host, for benchmarks only, so the cost of
//! the sandbox can be told from the cost of everything else.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::Limits;
use crate::http2::responder::Responder;
use crate::ops::metrics::{Report, TenantMetrics};
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;

/// Why a handler did not finish normally.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The deadline passed.
    TimedOut(std::time::Duration),
    /// The guest trapped; `kind` names the trap for the client and the log.
    Trapped {
        /// A short name for the trap, e.g. `unreachable executed`.
        kind: String,
        /// wasmtime's full message with the guest backtrace, for the log.
        detail: String,
    },
    /// No instance came free within the queue timeout (`waited`, with
    /// `running` instances busy).
    Busy {
        /// The queue timeout.
        waited: std::time::Duration,
        /// The instance limit.
        running: u32,
    },
    /// The guest answered with an error instead of a response (a
    /// `wasi:http` error code, or a response h2 cannot send): `500`.
    Errored(String),
    /// The instance pool had no slot left of some kind (`503`).
    PoolFull(String),
    /// No tenant serves the request's authority and path (`404`).
    NotFound(String),
}

/// What a request's handler left behind: the unused response handle (if it
/// never responded), why it failed (if it did), and what it did.
pub type Outcome = (Option<Responder>, Option<Failure>, Report);

/// The outcome of a request that found no instance free within
/// `limits.queue_timeout` (`503`), counted for `tenant`.
pub fn busy(mut caller: CallerState, limits: &Limits, tenant: &Arc<TenantMetrics>) -> Outcome {
    let (unanswered, mut report) = caller.finish();
    report.tenant = Some(tenant.clone());
    let failure = Failure::Busy {
        waited: limits.queue_timeout,
        running: limits.max_concurrent,
    };
    (unanswered, Some(failure), report)
}

/// Runs one request: calls `promise`/`respond`/`push` on `caller`.
pub trait Handler: Send + Sync + 'static {
    /// The limits in force.
    fn limits(&self) -> &Limits;

    /// Whether the request for `authority` and `path` gets its body as it
    /// arrives (a `wasi:http` guest) instead of read whole first.
    fn streams_body(&self, _authority: &str, _path: &str) -> bool {
        false
    }

    /// Handles `request`, answering through `caller`.
    fn run(&self, request: WitRequest, caller: CallerState, tag: Arc<str>) -> impl Future<Output = Outcome> + Send;
}

/// The instance slots: at most `max_concurrent` handlers run at once; the
/// rest wait up to the queue timeout.
#[derive(Debug)]
pub struct Admission {
    permits: Semaphore,
    limits: Limits,
}

impl Admission {
    /// Slots for `limits.max_concurrent` handlers.
    pub fn new(limits: &Limits) -> Self {
        Admission {
            permits: Semaphore::new(limits.max_concurrent as usize),
            limits: limits.clone(),
        }
    }

    /// A slot, or `None` past the queue timeout.
    pub async fn admit(&self, tag: &str) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Some(permit);
        }
        tracing::debug!("{tag}: queued: all {} instances busy", self.limits.max_concurrent);
        match tokio::time::timeout(self.limits.queue_timeout, self.permits.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}
