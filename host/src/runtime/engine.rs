//! The process's one wasm `Engine`: the pooling allocator sized for every
//! component it runs ([`Pool`]), the epoch ticker behind deadlines, and
//! the pool's warm pages: counted against the memory budget
//! ([`WarmPages`]) and given back when the process is idle
//! ([`release_when_idle`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, PoolingAllocatorMetrics};

use crate::config::{EPOCH_TICK, Limits};
use crate::runtime::budget::Outside;

/// The engine-wide sizes of the instance pool.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Instances alive at once, over all components.
    pub instances: u32,
    /// The largest linear memory any component may have.
    pub memory_bytes: usize,
    /// Whether any component has a deadline (epoch interruption on).
    pub deadlines: bool,
    /// Keep pool pages resident between instances.
    pub keep_resident: bool,
    /// The process's memory budget in bytes.
    pub memory_budget: usize,
}

impl Pool {
    /// The pool for one component under `limits`.
    pub fn for_limits(limits: &Limits) -> Pool {
        Pool {
            instances: limits.max_concurrent,
            memory_bytes: limits.memory_bytes,
            deadlines: limits.has_deadline(),
            keep_resident: limits.keep_resident,
            memory_budget: limits
                .memory_budget
                .unwrap_or_else(crate::runtime::budget::default_process_budget),
        }
    }
}

/// Core instances one component may link (componentize-py's has about a dozen).
const MAX_CORE_INSTANCES: u32 = 20;
/// Tables one component may have.
const MAX_TABLES: u32 = 8;

/// Linear memory kept resident per pool slot (see [`engine`]).
const MEMORY_KEEP_RESIDENT: usize = 4 << 20;
/// Table bytes kept resident per pool slot.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

pub(super) fn engine(limits: &Pool) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(limits.instances)
        // Components from componentize-py/js link a dozen core instances
        // (interpreter, libc, adapters) and several tables: every instance
        // slot may hold its component's full count. Core instance and table
        // slots cost little; memories reserve address space, so two each.
        .total_core_instances(limits.instances * MAX_CORE_INSTANCES)
        .total_memories(limits.instances * 2)
        .total_tables(limits.instances * MAX_TABLES)
        .total_stacks(limits.instances)
        .max_memory_size(limits.memory_bytes)
        .max_core_instances_per_component(MAX_CORE_INSTANCES)
        .max_memories_per_component(4)
        .max_tables_per_component(MAX_TABLES)
        // Reuse a slot's pages instead of handing them back to the kernel and
        // faulting them in again on the next request: the first
        // MEMORY_KEEP_RESIDENT bytes of a memory (and TABLE_KEEP_RESIDENT of
        // a table) are zeroed with memset, the rest given back with madvise.
        // Every instance still starts zeroed. Not with PAGEMAP_SCAN: since
        // wasmtime 49 the scan reports every resident page (not only those
        // the last guest wrote) and costs more than the memset it saves:
        // off, bench/ab.py 5 rounds, wasm seed 76.7 -> 58.4 us CPU/request,
        // hello 57.7 -> 42.5, the 0.3 seed 251 -> 206 (3 rounds); the
        // Python seed within noise (bench/results/changes.md).
        .pagemap_scan(Enabled::No);
    if limits.keep_resident {
        pool.linear_memory_keep_resident(limits.memory_bytes.min(MEMORY_KEEP_RESIDENT))
            .table_keep_resident(TABLE_KEEP_RESIDENT);
    }
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .epoch_interruption(limits.deadlines)
        // wasi:http@0.3 components: component-model async (streams,
        // futures, async exports) and the store's event loop.
        .wasm_component_model_async(true)
        .concurrency_support(true)
        .max_wasm_stack(1 << 20);
    // For `perf` profiles: name the compiled guest functions in
    // /tmp/perf-PID.map (see bench/README.md).
    if std::env::var_os("PUSH_HOST_PERFMAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
}

/// One thread for the whole process advances the epoch every [`EPOCH_TICK`].
pub(super) fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker");
}

/// The pool's warm pages (kept resident between instances, see [`engine`]):
/// counted against the process's memory budget, and given back when they
/// are in a growth's way.
pub(super) struct WarmPages {
    engine: Engine,
    metrics: PoolingAllocatorMetrics,
}

impl WarmPages {
    /// The warm pages of `engine`'s pool (`None`: it has no pool).
    pub(super) fn of(engine: &Engine) -> Option<Self> {
        Some(WarmPages {
            engine: engine.clone(),
            metrics: engine.pooling_allocator_metrics()?,
        })
    }
}

impl Outside for WarmPages {
    fn resident(&self) -> usize {
        self.metrics.unused_memory_bytes_resident() + self.metrics.unused_table_bytes_resident()
    }

    fn release(&self) -> usize {
        self.engine.release_idle_pool_memory()
    }
}

/// With no instance started for this long, the pool's warm pages go back
/// to the kernel.
pub const RELEASE_AFTER: Duration = Duration::from_secs(5);

/// When the process last started an instance.
#[derive(Debug)]
pub struct Activity {
    since: Instant,
    /// Milliseconds from `since` to the last instance started.
    last: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            since: Instant::now(),
            last: AtomicU64::new(0),
        }
    }
}

impl Activity {
    /// An instance starts now.
    pub fn touch(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        self.since
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last.load(Ordering::Relaxed)))
    }
}

/// One thread for the whole process: every second, once no instance has
/// started for [`RELEASE_AFTER`], gives the pool's warm pages back (RSS
/// returns near where it started); stops with the engine.
pub(super) fn release_when_idle(engine: &Engine, activity: Arc<Activity>) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("pool-release".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let Some(engine) = engine.upgrade() else { break };
                if activity.idle_for() < RELEASE_AFTER {
                    continue;
                }
                let Some(warm) = WarmPages::of(&engine) else { break };
                // Only memories go back (wasmtime releases no table pages:
                // at most TABLE_KEEP_RESIDENT per slot stay, counted).
                if warm.metrics.unused_memory_bytes_resident() > 0 {
                    let released = warm.release();
                    tracing::info!(
                        "idle for {} s: {} KiB of the instance pool's warm pages given back",
                        RELEASE_AFTER.as_secs(),
                        released >> 10
                    );
                }
            }
        })
        .expect("spawn the pool-release thread");
}
