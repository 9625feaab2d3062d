//! Prometheus metrics (`prometheus-client`), served on `--admin-listen` at
//! `/metrics`: requests, pushes and guest failures by tenant, instantiate
//! and handle latency, instances in use, open connections. Also [`Report`],
//! what one request did: filled in by the caller interface and the runtime,
//! read by the request's log line and counted here.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `tenant`, `status`, `protocol`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The tenant (`default` for `--module`; empty when no tenant matched).
    pub tenant: String,
    /// The HTTP status sent.
    pub status: u16,
    /// `h2` or `http/1.1`.
    pub protocol: String,
}

/// `tenant`, `outcome` (promised, sent, refused, hinted).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    /// The tenant.
    pub tenant: String,
    /// What became of the promise.
    pub outcome: String,
}

/// `tenant`, `kind` (trap, timeout, memory, busy).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// The tenant.
    pub tenant: String,
    /// What went wrong.
    pub kind: String,
}

/// `tenant`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    /// The tenant.
    pub tenant: String,
}

fn latency() -> Histogram {
    // 10 µs .. ~10 s.
    Histogram::new(exponential_buckets(1e-5, 4.0, 11))
}

/// Every metric the host keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Pushes by outcome.
    pub pushes: Family<PushLabels, Counter>,
    /// Guest failures (traps, timeouts, memory, no instance free).
    pub failures: Family<FailureLabels, Counter>,
    /// Time to create a request's instance.
    pub instantiate: Family<TenantLabels, Histogram, fn() -> Histogram>,
    /// Time in the guest's `handle`.
    pub handle: Family<TenantLabels, Histogram, fn() -> Histogram>,
    /// Instances alive.
    pub instances: Family<TenantLabels, Gauge<i64, std::sync::atomic::AtomicI64>>,
    /// Client connections open.
    pub connections: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// Reloads by result.
    pub reloads: Family<Vec<(String, String)>, Counter<u64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("push_host");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by tenant, status and protocol",
            requests.clone(),
        );
        let pushes = Family::<PushLabels, Counter>::default();
        registry.register(
            "pushes",
            "Promises by outcome: promised (PUSH_PROMISE sent), sent (pushed), refused (by the client or the push diary), hinted (103 or link header)",
            pushes.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "guest_failures",
            "Requests whose guest trapped, timed out, ran out of memory, or found no free instance",
            failures.clone(),
        );
        let instantiate =
            Family::<TenantLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "instantiate_seconds",
            "Time to create a request's instance",
            instantiate.clone(),
        );
        let handle =
            Family::<TenantLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency as fn() -> Histogram);
        registry.register("handle_seconds", "Time in the guest's handle", handle.clone());
        let instances = Family::default();
        registry.register("instances_in_use", "Instances alive", instances.clone());
        let connections = Gauge::default();
        registry.register("open_connections", "Client connections open", connections.clone());
        let reloads = Family::default();
        registry.register("reloads", "Hosting file reloads, by result", reloads.clone());
        Metrics {
            registry,
            requests,
            pushes,
            failures,
            instantiate,
            handle,
            instances,
            connections,
            reloads,
        }
    }
}

/// One tenant's series, looked up once: counting a request allocates
/// nothing and takes no lock on the families.
pub struct TenantMetrics {
    /// The tenant's name.
    pub name: Arc<str>,
    metrics: Arc<Metrics>,
    /// promised, sent, refused, hinted: created on first use, so an outcome
    /// that never happened has no series.
    pushes: [OnceLock<Counter>; 4],
    instantiate: Histogram,
    handle: Histogram,
    instances: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// (status, protocol) → counter, for the few pairs a tenant sees.
    requests: Mutex<Vec<(u16, &'static str, Counter)>>,
}

const PUSH_OUTCOMES: [&str; 4] = ["promised", "sent", "refused", "hinted"];

impl std::fmt::Debug for TenantMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TenantMetrics({})", self.name)
    }
}

/// An instance counted in `instances_in_use` until dropped.
pub struct InstanceInUse(Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for InstanceInUse {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl TenantMetrics {
    /// Counts an instance as alive until the guard is dropped.
    pub fn instance_started(&self) -> InstanceInUse {
        self.instances.inc();
        InstanceInUse(self.instances.clone())
    }

    /// Counts one finished request: its status and protocol, its pushes, a
    /// guest failure of `failure` kind, and its latencies.
    pub fn count(&self, report: &Report, status: u16, protocol: &'static str, failure: Option<&str>) {
        let counter = {
            let mut requests = self.requests.lock().unwrap();
            match requests.iter().find(|(s, p, _)| *s == status && *p == protocol) {
                Some((_, _, counter)) => counter.clone(),
                None => {
                    let counter = self
                        .metrics
                        .requests
                        .get_or_create(&RequestLabels {
                            tenant: self.name.to_string(),
                            status,
                            protocol: protocol.to_string(),
                        })
                        .clone();
                    requests.push((status, protocol, counter.clone()));
                    counter
                }
            }
        };
        counter.inc();
        let counts = [report.promised, report.pushed, report.refused, report.hinted];
        for (i, n) in counts.into_iter().enumerate() {
            if n > 0 {
                self.pushes[i]
                    .get_or_init(|| {
                        self.metrics
                            .pushes
                            .get_or_create(&PushLabels {
                                tenant: self.name.to_string(),
                                outcome: PUSH_OUTCOMES[i].to_string(),
                            })
                            .clone()
                    })
                    .inc_by(u64::from(n));
            }
        }
        if let Some(kind) = failure {
            self.metrics
                .failures
                .get_or_create(&FailureLabels {
                    tenant: self.name.to_string(),
                    kind: kind.to_string(),
                })
                .inc();
        }
        if let Some(d) = report.instantiate {
            self.instantiate.observe(d.as_secs_f64());
        }
        if let Some(d) = report.handle {
            self.handle.observe(d.as_secs_f64());
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }

    /// `name`'s series, looked up once.
    pub fn tenant(self: &Arc<Self>, name: &str) -> Arc<TenantMetrics> {
        let labels = TenantLabels {
            tenant: name.to_string(),
        };
        Arc::new(TenantMetrics {
            name: name.into(),
            metrics: self.clone(),
            pushes: Default::default(),
            instantiate: self.instantiate.get_or_create(&labels).clone(),
            handle: self.handle.get_or_create(&labels).clone(),
            instances: self.instances.get_or_create(&labels).clone(),
            requests: Mutex::new(Vec::new()),
        })
    }
}

/// What one request did, for its log line and the metrics.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The tenant that ran it (`default` for `--module`), with its
    /// metrics; `None` if no tenant did (no route).
    pub tenant: Option<Arc<TenantMetrics>>,
    /// The status of the main response the guest sent, if it did.
    pub status: Option<u16>,
    /// PUSH_PROMISE frames sent.
    pub promised: u32,
    /// Promised responses pushed.
    pub pushed: u32,
    /// Promises refused: by the client (reset) or by the push diary.
    pub refused: u32,
    /// Promises announced as early hints or `link` headers instead.
    pub hinted: u32,
    /// Time to create the instance.
    pub instantiate: Option<std::time::Duration>,
    /// Time in the guest's `handle`.
    pub handle: Option<std::time::Duration>,
}

impl Report {
    /// The tenant's name, or `""`.
    pub fn tenant_name(&self) -> &str {
        self.tenant.as_ref().map_or("", |t| &t.name)
    }
}
