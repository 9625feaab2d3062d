//! The wasm side of the host: one `Engine` with the pooling allocator and an
//! epoch ticker, the component loaded and pre-instantiated once, and a fresh
//! `Store` per request (this file), and what a guest instance holds:
//! - `engine.rs`: the engine and its instance pool, and the epoch ticker.
//! - `instance.rs`: a store and its instance, and the idle instances a
//!   component keeps between requests with `--instance-reuse`.
//! - `state.rs`: the store's data ([`state::HostState`]); its WASI context
//!   is built at the guest's first WASI call.
//! - `caller.rs`: the `push:handler/caller` interface's generated traits on
//!   that state (the checks themselves are [`crate::push`]'s).
//! - `stdio.rs`: the guest's stdout/stderr to the log, rate-limited per
//!   tenant; `budget.rs`: memory budgets shared by instances; `cache.rs`:
//!   the on-disk compile cache.
//! - `wasi_http/`: standard `wasi:http` components: what every version
//!   shares on top (`outbound.rs`, `preload.rs`, `body.rs`, `deliver.rs`,
//!   `serve.rs`), one folder per version (`p2/`: `wasi:http/proxy@0.2`;
//!   `p3/`: `wasi:http/service@0.3` and `push:handler/push@0.2.0`).

pub mod budget;
pub mod cache;
pub mod caller;
pub mod engine;
pub mod instance;
pub mod state;
pub mod stdio;
pub mod wasi_http;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Linker;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre as HttpServicePre;

use crate::config::AllowedHost;
use crate::config::{EPOCH_TICK, Grants, Limits};
use crate::handler::{Admission, Failure, Handler, Outcome, busy};
use crate::http2::hints;
use crate::ops::metrics::{Metrics, TenantMetrics};
use crate::push::caller_state::CallerState;
use crate::push::generated::{Service, ServicePre, WitRequest};
use crate::runtime::budget::{Budget, Reservation};
use crate::runtime::cache::CompileCache;
pub use crate::runtime::engine::Pool;
use crate::runtime::engine::{Activity, WarmPages, engine, release_when_idle, start_epoch_ticker};
use crate::runtime::instance::{IDLE_DROP, Instance, Kept, Live};
use crate::runtime::state::{HostState, MemoryLimiter};
use crate::runtime::stdio::GuestLogLimit;
use crate::runtime::wasi_http::p3::shared::{Deadlines, SharedInstances, Spawn};
use crate::runtime::wasi_http::serve::HttpPre;

/// Why a component could not be loaded; each names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not exist or cannot be read.
    #[error("cannot read module {}: {error}", path.display())]
    Read {
        /// The module path.
        path: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// The file does not start with the wasm magic number.
    #[error("{} is not a WebAssembly file (no \\0asm header)", path.display())]
    NotWasm {
        /// The module path.
        path: PathBuf,
    },
    /// A core module was given where a component is needed.
    #[error(
        "{} is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2`",
        path.display()
    )]
    CoreModule {
        /// The module path.
        path: PathBuf,
    },
    /// The component failed to compile or validate.
    #[error("{} is not a valid component: {message}", path.display())]
    Invalid {
        /// The module path.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// The component imports something the host does not provide.
    #[error("{} imports something push-host does not provide: {message}", path.display())]
    Imports {
        /// The module path.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// The component does not export the handler interface.
    #[error(
        "{} exports none of push:handler/handler@0.1.0, wasi:http/incoming-handler@0.2 and wasi:http/handler@0.3: {message}",
        path.display()
    )]
    NoHandler {
        /// The module path.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// The component needs more than the per-instance limits allow.
    #[error("{} does not fit the instance limits (see --memory-mb): {message}", path.display())]
    Limits {
        /// The module path.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// `instance_concurrency` above 1 for a component that cannot serve
    /// several requests at once.
    #[error(
        "{}: --instance-concurrency (instance_concurrency) above 1 needs a wasi:http@0.3 component, \
         which can serve several requests at once; this one is {world} (use --instance-reuse)",
        path.display()
    )]
    Concurrency {
        /// The module path.
        path: PathBuf,
        /// Its world.
        world: &'static str,
    },
    /// The component links but cannot be instantiated within the limits.
    #[error("{} cannot be instantiated: {message}", path.display())]
    Instantiate {
        /// The module path.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// The engine could not be created with these limits.
    #[error("cannot set up the wasm engine: {0}")]
    Engine(String),
}

/// The deadline error raised from the epoch callback.
#[derive(Debug)]
pub(crate) struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// The process's one wasm engine: the pooling allocator sized for every
/// component it will run, WASI and `caller` linked once, and the epoch
/// ticker. Components ([`Runtime`]) are loaded into it.
#[derive(Clone)]
pub struct Sandbox {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    budget: Arc<Budget>,
    cache: CompileCache,
    metrics: Arc<Metrics>,
    activity: Arc<Activity>,
}

/// The tenant name of the component served with `--module`.
pub const DEFAULT_TENANT: &str = "default";

impl Sandbox {
    /// Builds the engine and linker; starts the epoch ticker if needed.
    /// Components are compiled through `cache`.
    pub fn new(pool: &Pool, cache: CompileCache, metrics: Arc<Metrics>) -> Result<Self, LoadError> {
        let engine = engine(pool).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        // wasi:http for every guest: the proxy world's, and for push:handler
        // guests whose toolchain imports it (componentize-js always does).
        // Outgoing requests are denied unless the tenant allows the host.
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        // WASI 0.3 beside it: a 0.3 component may import 0.2 interfaces too
        // (componentize-py's import wasi:io/poll@0.2).
        wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        crate::push::generated::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        wasi_http::p3::generated::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        if pool.deadlines {
            start_epoch_ticker(&engine);
        }
        // The pool's warm pages count too: live instances' memory plus the
        // pages kept warm stay within the budget.
        let name = format!(
            "the memory budget of {} MiB (all instances and the pool's warm pages together)",
            pool.memory_budget >> 20
        );
        let budget = match WarmPages::of(&engine) {
            Some(warm) => Budget::counting(name, pool.memory_budget, Box::new(warm)),
            None => Budget::new(name, pool.memory_budget),
        };
        let activity = Arc::new(Activity::default());
        release_when_idle(&engine, activity.clone());
        Ok(Sandbox {
            engine,
            linker: Arc::new(linker),
            budget,
            cache,
            metrics,
            activity,
        })
    }
}

impl Sandbox {
    /// The metrics its components count in.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
}

/// The world a component was built for, told apart at load time.
enum World {
    /// `push:handler/service`: handle + promise/respond/push.
    Push(ServicePre<HostState>),
    /// `wasi:http/proxy@0.2`: a standard incoming handler (push from its
    /// `link` preload headers).
    Proxy(ProxyPre<HostState>),
    /// `wasi:http/service@0.3`: a standard async handler (push from its
    /// `link` preload headers, or through `push:handler/push@0.2.0`).
    Service(HttpServicePre<HostState>),
}

impl World {
    fn name(&self) -> &'static str {
        match self {
            World::Push(_) => "push:handler/service",
            World::Proxy(_) => "wasi:http/proxy@0.2 (incoming-handler)",
            World::Service(_) => "wasi:http/service@0.3 (handler)",
        }
    }

    /// The standard component, if it is one.
    fn http(&self) -> Option<HttpPre<'_>> {
        match self {
            World::Push(_) => None,
            World::Proxy(pre) => Some(HttpPre::P2(pre)),
            World::Service(pre) => Some(HttpPre::P3(pre)),
        }
    }
}

/// A loaded component, ready to serve requests.
pub struct Runtime {
    engine: Engine,
    pre: World,
    limits: Limits,
    admission: Admission,
    /// The only environment variables its guests see.
    env: Arc<[(String, String)]>,
    /// Where its guests' outgoing HTTP requests may go.
    outbound: Arc<[AllowedHost]>,
    /// The budgets its instances' memory counts against.
    budgets: Vec<Arc<Budget>>,
    /// Its tenant's metrics and name (`default` for `--module`).
    tenant_metrics: Arc<TenantMetrics>,
    /// Its guests' log lines, rate-limited together.
    log: Arc<GuestLogLimit>,
    /// Its idle instances (`--instance-reuse` above 1).
    kept: Kept,
    /// Its instances serving several requests at once
    /// (`--instance-concurrency` above 1, `wasi:http@0.3` only).
    shared: Option<Arc<SharedInstances>>,
    /// The process's last instance start.
    activity: Arc<Activity>,
}

impl Drop for Runtime {
    /// Its kept instances go, then the pool's warm pages, before its
    /// component does: wasmtime 50 forgets the pool slots a dropped
    /// component had used (`purge_module` frees them as holding nothing),
    /// and the pages kept resident in them would stay so for the process's
    /// life, outside the memory budget (a reload every 3 s: 400 MiB of RSS).
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            // Each ends once its requests have, and gives its warm pages
            // back itself.
            shared.close();
        }
        self.kept.drop_idle(std::time::Duration::ZERO);
        let released = self.engine.release_idle_pool_memory();
        tracing::info!(
            "{}: a version unloaded; {} KiB of the instance pool's warm pages given back",
            self.log.tenant,
            released >> 10
        );
    }
}

impl Runtime {
    /// Builds an engine of its own (no compile cache), loads and checks
    /// `path`, links WASI and `caller`, and starts the epoch ticker: one
    /// component per process.
    pub async fn load(path: &Path, limits: Limits) -> Result<Arc<Self>, LoadError> {
        let sandbox = Sandbox::new(&Pool::for_limits(&limits), CompileCache::off(), Arc::default())?;
        Self::load_into(&sandbox, DEFAULT_TENANT, path, limits, Grants::default()).await
    }

    /// Loads and checks `path` into `sandbox`, to run under `limits` with
    /// `grants`. Which world it targets is told from its exports.
    pub async fn load_into(
        sandbox: &Sandbox,
        name: &str,
        path: &Path,
        limits: Limits,
        grants: Grants,
    ) -> Result<Arc<Self>, LoadError> {
        let bytes = std::fs::read(path).map_err(|error| LoadError::Read {
            path: path.to_owned(),
            error,
        })?;
        let path = path.to_owned();
        if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
            return Err(LoadError::NotWasm { path });
        }
        if bytes[4..8] == [1, 0, 0, 0] {
            return Err(LoadError::CoreModule { path });
        }
        let engine = sandbox.engine.clone();
        let (component, how) = sandbox.cache.component(&engine, &bytes).map_err(|e| {
            let message = format!("{e:#}");
            if message.contains("pooling allocator") {
                LoadError::Limits {
                    path: path.clone(),
                    message,
                }
            } else {
                LoadError::Invalid {
                    path: path.clone(),
                    message,
                }
            }
        })?;
        let instance_pre = sandbox
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Imports {
                path: path.clone(),
                message: format!("{e:#}"),
            })?;
        let pre = match ServicePre::new(instance_pre.clone()) {
            Ok(pre) => World::Push(pre),
            Err(push) => match ProxyPre::new(instance_pre.clone()) {
                Ok(pre) => World::Proxy(pre),
                Err(_) if let Ok(pre) = HttpServicePre::new(instance_pre) => World::Service(pre),
                Err(_) => {
                    return Err(LoadError::NoHandler {
                        path: path.clone(),
                        message: format!("{push:#}"),
                    });
                }
            },
        };
        let shared = match (&pre, limits.instance_concurrency) {
            (_, 0 | 1) => None,
            (World::Service(_), _) => Some(SharedInstances::new(&limits)),
            (world, _) => {
                return Err(LoadError::Concurrency {
                    path: path.clone(),
                    world: world.name(),
                });
            }
        };
        let mut budgets = vec![sandbox.budget.clone()];
        if let Some(share) = limits.memory_share {
            budgets.push(Budget::new(
                format!("its tenant's memory budget of {} MiB", share >> 20),
                share,
            ));
        }
        let runtime = Runtime {
            engine,
            pre,
            admission: Admission::new(&limits),
            limits,
            env: grants.env.into(),
            outbound: grants.allowed_outbound_hosts.into(),
            budgets,
            log: GuestLogLimit::new(name.into()),
            tenant_metrics: sandbox.metrics.tenant(name),
            kept: Kept::default(),
            shared,
            activity: sandbox.activity.clone(),
        };
        runtime.try_instantiate().await.map_err(|e| LoadError::Instantiate {
            path: path.clone(),
            message: format!("{e:#}"),
        })?;
        tracing::info!("{}: {how}; world {}", path.display(), runtime.pre.name());
        let runtime = Arc::new(runtime);
        if runtime.limits.instance_reuse > 1 {
            drop_idle_instances(Arc::downgrade(&runtime));
        }
        Ok(runtime)
    }

    /// A store's data for one instance of this component.
    fn host_state(&self, caller: CallerState, tag: Arc<str>) -> HostState {
        let budgets = Reservation::new(self.budgets.clone());
        HostState::new(
            caller,
            self.limits.memory_bytes,
            self.env.clone(),
            budgets,
            self.log.clone(),
            self.outbound.clone(),
            tag,
        )
    }

    /// The instance for one request: a kept one with `--instance-reuse`
    /// (its state now `caller`'s and `tag`'s, its deadline this request's),
    /// or a fresh store.
    fn instance(&self, caller: CallerState, tag: Arc<str>) -> Instance {
        self.activity.touch();
        if self.limits.instance_reuse > 1
            && let Some(mut kept) = self.kept.take()
        {
            kept.store.data_mut().next_request(caller, tag);
            self.arm_deadline(&mut kept.store);
            return kept;
        }
        Instance::fresh(self.store(caller, tag))
    }

    /// Ends `instance`'s request: kept for the next one if reuse allows
    /// and nothing went wrong, dropped otherwise.
    fn give_back(&self, instance: Instance, failure: Option<&Failure>, tag: &str) {
        self.kept.give_back(instance, failure, self.limits.instance_reuse, tag);
    }

    /// A fresh store for one instance, its memory limiter and deadline set.
    fn store(&self, caller: CallerState, tag: Arc<str>) -> Store<HostState> {
        let mut store = Store::new(&self.engine, self.host_state(caller, tag));
        store.limiter(|s| &mut s.limiter);
        self.arm_deadline(&mut store);
        store
    }

    /// A fresh store for a shared instance (`--instance-concurrency`): its
    /// epoch callback yields every tick and traps once any request in it
    /// is past its deadline.
    pub(in crate::runtime) fn shared_store(&self, pre: &HttpServicePre<HostState>, id: u64) -> Spawn {
        let tag: Arc<str> = format!("{} shared instance {id}", self.log.tenant).into();
        let mut store = Store::new(&self.engine, self.host_state(CallerState::detached(), tag));
        store.limiter(|s| &mut s.limiter);
        let deadlines = Arc::new(Deadlines::default());
        if self.limits.has_deadline() {
            let watched = deadlines.clone();
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |ctx| {
                ctx.data().preempted.store(true, std::sync::atomic::Ordering::Relaxed);
                if watched.passed(Instant::now()) {
                    Err(wasmtime::Error::new(DeadlineExceeded))
                } else {
                    Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
                }
            });
        }
        Spawn {
            store,
            pre: pre.clone(),
            limits: self.limits.clone(),
            deadlines,
        }
    }

    /// Sets the deadline of the request about to run in `store`.
    fn arm_deadline(&self, store: &mut Store<HostState>) {
        if self.limits.has_deadline() {
            // Every tick the guest yields to tokio (so a spinning guest never
            // holds a worker thread); past the deadline it traps.
            let deadline = Instant::now() + self.limits.timeout;
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |ctx| {
                ctx.data().preempted.store(true, std::sync::atomic::Ordering::Relaxed);
                if Instant::now() >= deadline {
                    Err(wasmtime::Error::new(DeadlineExceeded))
                } else {
                    // tokio's yield_now, not wasmtime's plain self-wake: it
                    // lets the worker poll its IO driver first. A self-woken
                    // task runs again at once, and a busy worker polls the
                    // driver only every so many polls (61 then; main.rs
                    // sets 1000), 10 ms each here: two spinning guests held up every
                    // other request on the host for over a second
                    // (tests/tenants.rs, fairness).
                    Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
                }
            });
        }
    }

    /// Runs `call` under the deadline: the epoch deadline stops guest code;
    /// this outer timeout also stops a guest parked in a host call (e.g. a
    /// WASI sleep). `None`: it timed out.
    async fn bounded<R>(&self, call: impl Future<Output = R>) -> Option<R> {
        if self.limits.has_deadline() {
            tokio::time::timeout(self.limits.timeout + EPOCH_TICK * 10, call)
                .await
                .ok()
        } else {
            Some(call.await)
        }
    }

    /// Why a finished call failed, if it did.
    fn failure(&self, outcome: Option<wasmtime::Result<()>>, store: &Store<HostState>) -> Option<Failure> {
        match outcome {
            Some(Ok(())) => None,
            None => Some(Failure::TimedOut(self.limits.timeout)),
            Some(Err(e)) if e.downcast_ref::<DeadlineExceeded>().is_some() => {
                Some(Failure::TimedOut(self.limits.timeout))
            }
            Some(Err(e)) => Some(describe_trap(&e, &store.data().limiter, &self.limits)),
        }
    }

    /// Instantiates the component once, so what only instantiation finds
    /// (more memories or instances than the pool allows, a start function
    /// that traps) stops start-up instead of failing every request.
    async fn try_instantiate(&self) -> wasmtime::Result<()> {
        self.run_detached(None).await
    }

    /// A fresh `Store` and instance, as for a request, and with `request`
    /// the handler's `handle` too, with a caller that refuses every call
    /// (`closed`): no connection, no `h2`. For start-up checks and for
    /// benchmarking the sandbox alone (`cargo bench -p push-host`).
    pub async fn run_detached(&self, request: Option<&WitRequest>) -> wasmtime::Result<()> {
        let mut store = Store::new(
            &self.engine,
            self.host_state(CallerState::detached(), "start-up".into()),
        );
        store.limiter(|s| &mut s.limiter);
        if self.limits.has_deadline() {
            let ticks = (self.limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1);
            store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        }
        match (&self.pre, request) {
            (World::Push(pre), request) => {
                let service = pre.instantiate_async(&mut store).await?;
                if let Some(request) = request {
                    service.push_handler_handler().call_handle(&mut store, request).await?;
                }
                Ok(())
            }
            (World::Proxy(pre), None) => pre.instantiate_async(&mut store).await.map(drop),
            (World::Service(pre), None) => pre.instantiate_async(&mut store).await.map(drop),
            (world, Some(request)) => {
                let http = world.http().expect("push worlds are matched above");
                let mut instance = Instance::fresh(store);
                let (result, _, response) = http
                    .exchange(
                        &mut instance,
                        request,
                        wasi_http::body::IncomingBody::Read(request.body.clone()),
                        None,
                        wasi_http::deliver::buffered,
                    )
                    .await;
                result?;
                match response {
                    Some(Ok(_)) => Ok(()),
                    Some(Err(e)) => Err(wasmtime::format_err!("{e}")),
                    None => Err(wasmtime::format_err!("the component set no response")),
                }
            }
        }
    }

    /// A `push:handler` guest's request: `handle`, answering through `caller`.
    async fn run_push(
        &self,
        pre: &ServicePre<HostState>,
        request: WitRequest,
        caller: CallerState,
        tag: Arc<str>,
    ) -> Outcome {
        // Push off: a burst of promises' 103 goes out when the guest yields.
        let early = caller.early_hints();
        let mut instance = self.instance(caller, tag.clone());
        let preempted = instance.store.data().preempted.clone();
        let mut instantiate = None;
        let mut handle = None;
        let Instance { store, live, .. } = &mut instance;
        let call = async {
            let started = Instant::now();
            let service: Service = match live.take() {
                Some(Live::Push(service)) => service,
                _ => pre.instantiate_async(&mut *store).await?,
            };
            let handling = Instant::now();
            instantiate = Some(handling - started);
            let result = service.push_handler_handler().call_handle(&mut *store, &request).await;
            handle = Some(handling.elapsed());
            *live = Some(Live::Push(service));
            result
        };
        let outcome = self.bounded(hints::flush_on_yield(call, early, &preempted)).await;
        let failure = self.failure(outcome, &instance.store);
        let (unanswered, mut report) = instance.store.data_mut().caller.finish();
        self.give_back(instance, failure.as_ref(), &tag);
        report.tenant = Some(self.tenant_metrics.clone());
        report.instantiate = instantiate;
        report.handle = handle;
        (unanswered, failure, report)
    }
}

impl Handler for Runtime {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn streams_body(&self, _authority: &str, _path: &str) -> bool {
        !matches!(self.pre, World::Push(_))
    }

    /// Runs the handler for one request in a fresh instance.
    async fn run(&self, mut request: WitRequest, mut caller: CallerState, tag: Arc<str>) -> Outcome {
        let Some(permit) = self.admission.admit(&tag).await else {
            return busy(caller, &self.limits, &self.tenant_metrics);
        };
        let in_use = self.tenant_metrics.instance_started();
        match &self.pre {
            World::Push(pre) => {
                // A body left streaming (this tenant was a wasi:http one when
                // the request was routed, before a reload) is read whole.
                if let Some(body) = caller.take_body_stream() {
                    match body.read_all().await {
                        Ok(body) => request.body = body,
                        Err(e) => {
                            let (unanswered, mut report) = caller.finish();
                            report.tenant = Some(self.tenant_metrics.clone());
                            return (unanswered, Some(Failure::Errored(format!("request body: {e}"))), report);
                        }
                    }
                }
                self.run_push(pre, request, caller, tag).await
            }
            // The slot is given back before the pushes take theirs.
            World::Proxy(_) | World::Service(_) => {
                let http = self.pre.http().expect("a standard component");
                self.run_http(http, request, caller, tag, (permit, in_use)).await
            }
        }
    }
}

/// Names a trap's kind and keeps wasmtime's message on one line.
pub(crate) fn describe_trap(e: &wasmtime::Error, memory: &MemoryLimiter, limits: &Limits) -> Failure {
    // The pool ran out of a slot kind (core instances, tables, memories)
    // with the admission limit not reached: the host is full, not the guest
    // at fault (503, Retry-After).
    if let Some(full) = e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return Failure::PoolFull(full.to_string());
    }
    let kind = match e.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow".to_string(),
        Some(Trap::UnreachableCodeReached) => "unreachable executed (a guest panic or abort)".to_string(),
        Some(trap) => trap.to_string(),
        None => "error".to_string(),
    };
    let kind = if memory.exceeded {
        format!(
            "{kind} after the memory limit of {} MiB was exceeded",
            limits.memory_bytes >> 20
        )
    } else if let Some(budget) = &memory.over_budget {
        format!("{kind} after a memory growth did not fit in {}", budget.name)
    } else {
        kind
    };
    let detail = format!("{e:?}").replace('\n', " | ");
    Failure::Trapped { kind, detail }
}

/// Drops `runtime`'s instances idle for [`IDLE_DROP`], every half of it,
/// for as long as the runtime is alive.
fn drop_idle_instances(runtime: std::sync::Weak<Runtime>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(IDLE_DROP / 2).await;
            let Some(runtime) = runtime.upgrade() else { break };
            let dropped = runtime.kept.drop_idle(IDLE_DROP);
            if dropped > 0 {
                tracing::debug!("{}: {dropped} idle instances dropped", runtime.log.tenant);
            }
        }
    });
}
