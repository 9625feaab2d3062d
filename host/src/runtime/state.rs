//! The data of one request's `Store`: WASI context, resource table, the
//! caller state behind the `caller` interface, and the memory limiter.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::config::AllowedHost;
use crate::push::caller_state::CallerState;
use crate::push::pusher::P3Request;
use crate::runtime::budget::{Budget, Reservation};
use crate::runtime::stdio::{Channel, GuestLogLimit, LogStream};
use crate::runtime::wasi_http::outbound::Outbound;

/// Everything one guest instance can reach.
pub struct HostState {
    /// Built at the guest's first WASI call: most push handlers make none
    /// in a request, and building one (clocks, two seeded RNGs, streams)
    /// is a measurable part of instantiation.
    wasi: Option<WasiCtx>,
    wasi_inputs: WasiInputs,
    http: WasiHttpCtx,
    outbound: Outbound,
    pub(crate) table: ResourceTable,
    pub(crate) caller: CallerState,
    pub(crate) limiter: MemoryLimiter,
    /// A `wasi:http@0.3` guest's requests (made at its first request).
    pub(crate) p3: Option<P3Request>,
    /// Set when the guest is preempted at an epoch tick (it computes, it
    /// does not wait); read and cleared by [`crate::http2::hints::flush_on_yield`].
    pub(crate) preempted: Arc<AtomicBool>,
}

impl HostState {
    /// A sandbox with stdout/stderr going to the log, clocks and random, the
    /// environment `env` (its tenant's; empty by default), and nothing else:
    /// no arguments, no files, no sockets; `wasi:http` outgoing requests
    /// only to `allowed` destinations.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        caller: CallerState,
        memory_bytes: usize,
        env: Arc<[(String, String)]>,
        budgets: Reservation,
        log: Arc<GuestLogLimit>,
        allowed: Arc<[AllowedHost]>,
        tag: Arc<str>,
    ) -> Self {
        HostState {
            wasi: None,
            wasi_inputs: WasiInputs {
                env,
                log,
                tag: tag.clone(),
                streams: None,
            },
            http: WasiHttpCtx::new(),
            outbound: Outbound::new(allowed, tag),
            table: ResourceTable::new(),
            caller,
            p3: None,
            preempted: Arc::default(),
            limiter: MemoryLimiter {
                max_bytes: memory_bytes,
                exceeded: false,
                budgets,
                over_budget: None,
            },
        }
    }
}

impl HostState {
    /// Readies a kept instance's state for its next request: `caller` and
    /// `tag` are that request's, and nothing of the last request's push
    /// state is left (its `wasi:http@0.3` requests, promises, pushers).
    pub fn next_request(&mut self, caller: CallerState, tag: Arc<str>) {
        self.caller = caller;
        self.p3 = None;
        self.preempted.store(false, std::sync::atomic::Ordering::Relaxed);
        self.outbound.retag(tag.clone());
        if let Some(streams) = &self.wasi_inputs.streams {
            for stream in streams {
                stream.retag(tag.clone());
            }
        }
        self.wasi_inputs.tag = tag;
    }
}

impl HostState {
    /// The tag its log lines carry.
    pub fn tag(&self) -> Arc<str> {
        self.wasi_inputs.tag.clone()
    }
}

/// What the WASI context is built from.
struct WasiInputs {
    env: Arc<[(String, String)]>,
    log: Arc<GuestLogLimit>,
    tag: Arc<str>,
    /// The context's stdout and stderr, once built (retagged per request).
    streams: Option<[LogStream; 2]>,
}

impl WasiInputs {
    /// A sandbox with stdout/stderr going to the log, clocks and random, the
    /// environment (its tenant's; empty by default), and nothing else: no
    /// arguments, no files, no sockets.
    fn build(&mut self) -> WasiCtx {
        let stdout = LogStream::new(Channel::Stdout, self.tag.clone(), self.log.clone());
        let stderr = LogStream::new(Channel::Stderr, self.tag.clone(), self.log.clone());
        self.streams = Some([stdout.clone(), stderr.clone()]);
        WasiCtx::builder()
            .envs(&self.env)
            .stdout(stdout)
            .stderr(stderr)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let inputs = &mut self.wasi_inputs;
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(|| inputs.build()),
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// Caps each linear memory and remembers whether the guest hit the cap, so a
/// trap that follows can be reported as "memory limit exceeded".
pub struct MemoryLimiter {
    max_bytes: usize,
    /// The guest asked for more memory than allowed.
    pub exceeded: bool,
    /// What this instance holds of the shared memory budgets.
    budgets: Reservation,
    /// The budget a growth did not fit in, if one did not.
    pub over_budget: Option<Arc<Budget>>,
}

/// Most table elements one instance may have.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        if let Err(budget) = self.budgets.grow(desired.saturating_sub(current)) {
            self.over_budget = Some(budget);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
