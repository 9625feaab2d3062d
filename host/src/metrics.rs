//! Prometheus metrics (`prometheus-client`), served on `--admin-listen` at
//! `/metrics`: requests, pushes and guest failures by tenant, instantiate
//! and handle latency, instances in use, open connections.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

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

    /// Counts `n` pushes of `tenant` with `outcome`.
    pub fn push(&self, tenant: &str, outcome: &str, n: u32) {
        if n > 0 {
            self.pushes
                .get_or_create(&PushLabels {
                    tenant: tenant.to_string(),
                    outcome: outcome.to_string(),
                })
                .inc_by(u64::from(n));
        }
    }

    /// Records a latency.
    pub fn observe(family: &Family<TenantLabels, Histogram, fn() -> Histogram>, tenant: &str, d: Duration) {
        family
            .get_or_create(&TenantLabels {
                tenant: tenant.to_string(),
            })
            .observe(d.as_secs_f64());
    }
}
