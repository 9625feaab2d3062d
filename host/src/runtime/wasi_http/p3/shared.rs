//! `--instance-concurrency M`: one `wasi:http@0.3` instance serving up to
//! M requests at once (component-model async), as `wasmtime serve` does
//! for 0.3 components.
//!
//! A worker task owns the instance's store and drives its event loop
//! (`run_concurrent`) for the instance's life. Requests reach it as
//! [`Work`] through [`SharedInstances::dispatch`], which picks a worker
//! with room or starts one. Each request's call is one future in that
//! loop with its own deadline, push side and response channel; the
//! connection's side of it ([`service::receive`]) runs in the request's
//! own task, as without sharing. A request's deadline counts from when its
//! worker starts it, as a request's does from when it gets an instance.
//!
//! What one request's failure does to the others: a trap, or a guest still
//! computing past a request's deadline (the epoch callback), stops the
//! whole instance, so every request it is serving fails (the one past its
//! deadline as timed out, the others naming why). A request past its
//! deadline while the guest waits fails alone; the instance then takes no
//! new request and ends once the others have. So does an instance whose
//! guest answered with an error code or had a memory growth refused, one
//! that served `max(instance_reuse, instance_concurrency)` requests, and
//! one that served none for [`IDLE_DROP`]. Requests sent to a worker that ends before starting them
//! go to another.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use wasmtime::Store;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::config::{EPOCH_TICK, Limits};
use crate::handler::Failure;
use crate::push::pusher::{Outstanding, PushSide};
use crate::runtime::instance::IDLE_DROP;
use crate::runtime::state::{HostState, MemoryLimiter};
use crate::runtime::wasi_http::body::{GuestBody, Timing};
use crate::runtime::wasi_http::p3::service::{self, ResponseTx};
use crate::runtime::{DeadlineExceeded, describe_trap};

/// One request for a shared instance.
pub struct Work {
    /// The request as the guest reads it.
    pub request: http::Request<GuestBody>,
    /// Its push side.
    pub side: PushSide,
    /// Where the guest's response goes.
    pub tx: ResponseTx,
    /// Cancelled when the connection's side is done with the response.
    pub delivered: CancellationToken,
    /// Cancelled once a response has been delivered (not when the call
    /// failed before it gave one).
    pub responded: CancellationToken,
}

/// How a request sent to a worker ended there.
pub enum Ended {
    /// The call ran: why it failed, if it did, and its timing.
    Ran {
        /// The failure, if any.
        failure: Option<Failure>,
        /// Instantiation (for the instance's first request) and `handle`.
        timing: Timing,
    },
    /// The worker ended before it started the call: send it to another.
    NotStarted(Box<Work>),
}

/// What a new worker starts from: a fresh store (its limiter and the
/// epoch callback over `deadlines` set) and the component.
pub struct Spawn {
    /// The store.
    pub store: Store<HostState>,
    /// The component, pre-instantiated.
    pub pre: ServicePre<HostState>,
    /// Its tenant's limits.
    pub limits: Limits,
    /// The deadlines of the requests in it, shared with the store's epoch
    /// callback.
    pub deadlines: Arc<Deadlines>,
}

/// The deadlines of the requests an instance is serving.
#[derive(Default)]
pub struct Deadlines(Mutex<BTreeMap<Instant, usize>>);

impl Deadlines {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Instant, usize>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, at: Instant) {
        *self.lock().entry(at).or_default() += 1;
    }

    fn remove(&self, at: Instant) {
        let mut map = self.lock();
        if let Some(n) = map.get_mut(&at) {
            *n -= 1;
            if *n == 0 {
                map.remove(&at);
            }
        }
    }

    /// Whether a request in the instance is past its deadline by more than
    /// two epoch ticks (a request waiting, not computing, times out on its
    /// own at its deadline; this is for a guest that computes on).
    pub fn passed(&self, now: Instant) -> bool {
        self.lock()
            .first_key_value()
            .is_some_and(|(at, _)| *at + EPOCH_TICK * 2 <= now)
    }
}

struct Job {
    work: Work,
    done: oneshot::Sender<Ended>,
}

/// A worker as the dispatcher sees it.
struct Slot {
    id: u64,
    jobs: mpsc::UnboundedSender<Job>,
    /// Sent to it and not ended yet (queued or running).
    in_flight: usize,
    accepting: bool,
    /// Its store's preemption flag (for early hints).
    preempted: Arc<AtomicBool>,
}

/// The shared instances of one component.
pub struct SharedInstances {
    slots: Mutex<Vec<Slot>>,
    next_id: AtomicU64,
    /// Requests at once per instance.
    at_once: usize,
    /// Requests in all per instance.
    in_all: u64,
    /// The component's runtime is gone: workers end when idle.
    closed: AtomicBool,
}

impl SharedInstances {
    /// Instances for `limits`' concurrency and reuse.
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(SharedInstances {
            slots: Mutex::default(),
            next_id: AtomicU64::new(0),
            at_once: limits.instance_concurrency as usize,
            in_all: u64::from(limits.instance_reuse.max(limits.instance_concurrency)),
            closed: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `work` to a worker with room, or to a new one made by
    /// `spawn(id)`; how it ends there, and that worker's preemption flag.
    pub fn dispatch(
        self: &Arc<Self>,
        work: Work,
        spawn: impl FnOnce(u64) -> Spawn,
    ) -> (oneshot::Receiver<Ended>, Arc<AtomicBool>) {
        let (done, ended) = oneshot::channel();
        let mut job = Job { work, done };
        let mut slots = self.lock();
        if let Some(slot) = slots.iter_mut().find(|s| s.accepting && s.in_flight < self.at_once) {
            match slot.jobs.send(job) {
                Ok(()) => {
                    slot.in_flight += 1;
                    return (ended, slot.preempted.clone());
                }
                // The worker is gone (it panicked): a new one takes it.
                Err(mpsc::error::SendError(back)) => job = back,
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let spawn = spawn(id);
        let preempted = spawn.store.data().preempted.clone();
        let (jobs, rx) = mpsc::unbounded_channel();
        let _ = jobs.send(job);
        slots.retain(|s| !s.jobs.is_closed());
        slots.push(Slot {
            id,
            jobs,
            in_flight: 1,
            accepting: true,
            preempted: preempted.clone(),
        });
        tokio::spawn(run(self.clone(), id, spawn, rx));
        (ended, preempted)
    }

    fn with_slot(&self, id: u64, f: impl FnOnce(&mut Slot)) {
        if let Some(slot) = self.lock().iter_mut().find(|s| s.id == id) {
            f(slot);
        }
    }

    /// Takes the worker out if nothing is in flight for it (or `force`);
    /// whether it is out.
    fn retire(&self, id: u64, force: bool) -> bool {
        let mut slots = self.lock();
        match slots.iter().position(|s| s.id == id) {
            Some(i) if force || slots[i].in_flight == 0 => {
                slots.remove(i);
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// The runtime is going: no more requests; each worker ends once its
    /// requests have (dropping its sender ends its queue), and gives the
    /// pool's warm pages back.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.lock().clear();
    }
}

/// A call in the loop, until it ends.
struct Pending {
    done: oneshot::Sender<Ended>,
    failed: CancellationToken,
    /// Cancelled once its response has been delivered.
    responded: CancellationToken,
    /// Its promises and pushed bodies still to go.
    outstanding: Outstanding,
    deadline: Option<Instant>,
    instantiate: Option<std::time::Duration>,
}

/// One worker: instantiates, then serves what `rx` brings until it ends.
async fn run(pool: Arc<SharedInstances>, id: u64, spawn: Spawn, mut rx: mpsc::UnboundedReceiver<Job>) {
    let Spawn {
        mut store,
        pre,
        limits,
        deadlines,
    } = spawn;
    let tag = store.data().tag();
    let started = Instant::now();
    let service = match pre.instantiate_async(&mut store).await {
        Ok(service) => service,
        Err(e) => {
            let failure = describe_trap(&e, &store.data().limiter, &limits);
            pool.retire(id, true);
            rx.close();
            while let Ok(job) = rx.try_recv() {
                let _ = job.done.send(Ended::Ran {
                    failure: Some(failure.clone()),
                    timing: Timing::default(),
                });
            }
            return;
        }
    };
    let mut instantiate = Some(started.elapsed());
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    // Requests failed with the instance already (the one that trapped).
    let mut stopped_with = 0;
    let (pool_ref, pending_ref, deadlines_ref, limits_ref) = (&pool, &mut pending, &deadlines, &limits);
    let stopped_with_ref = &mut stopped_with;
    let result = store
        .run_concurrent(async |accessor| {
            let service = &service;
            let mut running = FuturesUnordered::new();
            let mut accepted: u64 = 0;
            let mut accepting = true;
            let mut next: u64 = 0;
            loop {
                let idle = tokio::time::sleep(IDLE_DROP);
                tokio::select! {
                    job = rx.recv(), if accepting => {
                        let Some(Job { work, done }) = job else {
                            accepting = false;
                            continue;
                        };
                        accepted += 1;
                        if accepted >= pool_ref.in_all || pool_ref.closed.load(Ordering::Relaxed) {
                            accepting = false;
                            stop_accepting(pool_ref, id, &mut rx);
                        }
                        let Work { request, side, tx, delivered, responded } = work;
                        // Its deadline counts from here, as a request's does
                        // from when it gets an instance.
                        let deadline = limits_ref.has_deadline().then(|| Instant::now() + limits_ref.timeout);
                        let prepared = accessor.with(|mut s| service::prepare(s.data_mut(), request, Some(&side)));
                        let prepared = match prepared {
                            Ok(prepared) => prepared,
                            Err(e) => {
                                pool_ref.with_slot(id, |s| s.in_flight -= 1);
                                let failure = Some(Failure::Errored(format!("{e:#}")));
                                let _ = done.send(Ended::Ran { failure, timing: Timing::default() });
                                continue;
                            }
                        };
                        let n = next;
                        next += 1;
                        if let Some(at) = deadline {
                            deadlines_ref.add(at);
                        }
                        pending_ref.insert(n, Pending {
                            done,
                            failed: side.failed.clone(),
                            responded,
                            outstanding: side.outstanding.clone(),
                            deadline,
                            instantiate: instantiate.take(),
                        });
                        running.push(async move {
                            let mut handle = None;
                            let call = service::call(accessor, service, prepared, tx, &delivered, &mut handle);
                            let result = match deadline {
                                Some(at) => tokio::time::timeout_at(at.into(), call).await.ok(),
                                None => Some(call.await),
                            };
                            (n, result, handle)
                        });
                    }
                    Some((n, result, handle)) = running.next() => {
                        let Some(p) = pending_ref.remove(&n) else { continue };
                        if let Some(at) = p.deadline {
                            deadlines_ref.remove(at);
                        }
                        pool_ref.with_slot(id, |s| s.in_flight -= 1);
                        let timing = Timing { instantiate: p.instantiate, handle };
                        let failure = match result {
                            Some(Ok(errored)) => {
                                // Served, but the instance takes no more: the
                                // guest answered with an error code, or a
                                // memory growth was refused (as a kept
                                // instance would be dropped).
                                let refused = accessor.with(|mut s| {
                                    let limiter = &s.get().limiter;
                                    limiter.exceeded || limiter.over_budget.is_some()
                                });
                                if (errored || refused) && accepting {
                                    accepting = false;
                                    stop_accepting(pool_ref, id, &mut rx);
                                }
                                None
                            }
                            Some(Err(e)) => {
                                // A trap poisons the instance: every call in
                                // it fails with this one (below).
                                p.failed.cancel();
                                let failure = accessor.with(|mut s| {
                                    failure_of(&e, p.deadline, &s.get().limiter, limits_ref)
                                });
                                let _ = p.done.send(Ended::Ran { failure: Some(failure), timing });
                                *stopped_with_ref += 1;
                                return Err(e);
                            }
                            None => Some(Failure::TimedOut(limits_ref.timeout)),
                        };
                        if failure.is_some() {
                            p.failed.cancel();
                            if accepting {
                                accepting = false;
                                stop_accepting(pool_ref, id, &mut rx);
                            }
                        }
                        let _ = p.done.send(Ended::Ran { failure, timing });
                    }
                    _ = idle, if running.is_empty() => {
                        if pool_ref.retire(id, false) {
                            break;
                        }
                    }
                    // Not accepting and nothing running: the check below
                    // retires it; what may still be queued goes elsewhere.
                    else => break,
                }
                if !accepting && running.is_empty() && pool_ref.retire(id, false) {
                    break;
                }
            }
            Ok::<(), wasmtime::Error>(())
        })
        .await;
    pool.retire(id, true);
    if let Some(e) = result.and_then(|r| r).err() {
        // A call whose response and pushes were all sent is done; only its
        // end was not seen yet (a guest computing on holds up the loop).
        let (done, cut): (Vec<_>, Vec<_>) = pending
            .drain()
            .map(|(_, p)| p)
            .partition(|p| p.responded.is_cancelled() && p.outstanding.is_settled());
        let why = match failure_of(&e, None, &store.data().limiter, &limits) {
            Failure::Trapped { kind, .. } => kind,
            _ => "a request in it ran past its deadline".into(),
        };
        tracing::warn!(
            "{tag}: stopped ({why}) with {} request(s) in it",
            cut.len() + stopped_with
        );
        for p in done {
            let timing = Timing {
                instantiate: p.instantiate,
                handle: None,
            };
            let _ = p.done.send(Ended::Ran { failure: None, timing });
        }
        for p in cut {
            p.failed.cancel();
            let failure = failure_of(&e, p.deadline, &store.data().limiter, &limits);
            let timing = Timing {
                instantiate: p.instantiate,
                handle: None,
            };
            let _ = p.done.send(Ended::Ran {
                failure: Some(failure),
                timing,
            });
        }
    }
    rx.close();
    while let Ok(job) = rx.try_recv() {
        let _ = job.done.send(Ended::NotStarted(Box::new(job.work)));
    }
    // The store (its slot) goes, then, if the runtime is gone, the pool's
    // warm pages, then the component: as `Runtime::drop` does.
    let engine = store.engine().clone();
    drop(store);
    if pool.closed.load(Ordering::Relaxed) {
        engine.release_idle_pool_memory();
    }
    drop(pre);
}

/// What the instance's failure `e` means for a request in it with
/// `deadline`: its trap; after the epoch callback's deadline error, timed
/// out if its own deadline has passed, else stopped for another's.
fn failure_of(e: &wasmtime::Error, deadline: Option<Instant>, limiter: &MemoryLimiter, limits: &Limits) -> Failure {
    if e.downcast_ref::<DeadlineExceeded>().is_none() {
        return describe_trap(e, limiter, limits);
    }
    if deadline.is_some_and(|at| at <= Instant::now()) {
        Failure::TimedOut(limits.timeout)
    } else {
        Failure::Errored("its instance was stopped: another request it was serving ran past its deadline".into())
    }
}

/// Marks the worker as taking no new request, and sends back the ones
/// queued for it (none can be added once it is marked).
fn stop_accepting(pool: &SharedInstances, id: u64, rx: &mut mpsc::UnboundedReceiver<Job>) {
    pool.with_slot(id, |s| s.accepting = false);
    while let Ok(job) = rx.try_recv() {
        pool.with_slot(id, |s| s.in_flight -= 1);
        let _ = job.done.send(Ended::NotStarted(Box::new(job.work)));
    }
}
