//! One guest instance: its `Store` and, once made, the instance's exports
//! ([`Instance`]); and the instances a component keeps between requests
//! with `--instance-reuse` ([`Kept`]). Without reuse (the default) every
//! request gets a fresh store and drops it at its end.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::p3::bindings::Service as HttpService;

use crate::handler::Failure;
use crate::push::generated::Service;
use crate::runtime::state::HostState;

/// A kept instance idle this long is dropped (its memory given back).
pub const IDLE_DROP: Duration = Duration::from_secs(5);

/// An instantiated component's exports, by world.
pub enum Live {
    /// `push:handler/service`.
    Push(Service),
    /// `wasi:http/proxy@0.2`.
    Proxy(Proxy),
    /// `wasi:http/service@0.3`.
    Service(HttpService),
}

/// A store for one request, and the instance in it once instantiated
/// (already there when the store was kept from an earlier request).
pub struct Instance {
    /// The store: its data is the current request's.
    pub store: Store<HostState>,
    /// The instance, once made.
    pub live: Option<Live>,
    /// Requests it has finished.
    served: u32,
}

impl Instance {
    /// A fresh store, no instance yet.
    pub fn fresh(store: Store<HostState>) -> Self {
        Instance {
            store,
            live: None,
            served: 0,
        }
    }

    /// Why it may not serve another request, if it may not: `failure`
    /// (the request's), a memory limit hit, no instance made, or `reuse`
    /// requests served.
    fn spent(&self, failure: Option<&Failure>, reuse: u32) -> Option<&'static str> {
        let limiter = &self.store.data().limiter;
        if failure.is_some() {
            Some("its request failed")
        } else if limiter.exceeded || limiter.over_budget.is_some() {
            Some("a memory growth was refused")
        } else if self.live.is_none() {
            Some("it was never instantiated")
        } else if self.served >= reuse {
            Some("it served its --instance-reuse requests")
        } else {
            None
        }
    }
}

/// The idle instances of one component, most recently used last.
#[derive(Default)]
pub struct Kept {
    idle: Mutex<Vec<(Instance, Instant)>>,
}

impl Kept {
    /// The most recently used idle instance, if any.
    pub fn take(&self) -> Option<Instance> {
        self.lock().pop().map(|(instance, _)| instance)
    }

    /// Ends `instance`'s request: kept for the next one unless `failure`,
    /// a refused memory growth, or `reuse` requests served rule it out
    /// (then it is dropped here, and its slot and memory go back to the pool).
    pub fn give_back(&self, mut instance: Instance, failure: Option<&Failure>, reuse: u32, tag: &str) {
        instance.served += 1;
        if reuse <= 1 {
            return;
        }
        match instance.spent(failure, reuse) {
            None => self.lock().push((instance, Instant::now())),
            Some(why) => tracing::debug!("{tag}: instance dropped after {} requests: {why}", instance.served),
        }
    }

    /// Drops the instances idle for `idle` or longer; how many.
    pub fn drop_idle(&self, idle: Duration) -> usize {
        let expired: Vec<_> = {
            let mut kept = self.lock();
            let now = Instant::now();
            // Oldest first: the expired ones are a prefix.
            let n = kept.iter().take_while(|(_, at)| now - *at >= idle).count();
            kept.drain(..n).collect()
        };
        expired.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Instance, Instant)>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}
