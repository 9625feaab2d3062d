//! Many tenants on one host (`push-host --config hosting.toml`): one
//! [`Sandbox`] (engine and instance pool) for the process, one component
//! per tenant with its own limits and environment, and requests routed to
//! tenants by authority and path prefix ([`route`]).
//!
//! - [`config`]: the hosting file and its checks.
//! - [`route`]: routes and the longest-match rule.
//! - [`reload`]: SIGHUP and file changes swap in a new version.
//! - [`watch`]: `--module X --watch`, one component reloaded the same way.

pub mod config;
pub mod reload;
pub mod route;
pub mod watch;

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Limits;
use crate::handler::{Failure, Handler, Outcome};
use crate::ops::metrics::Metrics;
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::runtime::cache::CompileCache;
use crate::runtime::{LoadError, Pool, Runtime, Sandbox};
use config::HostingConfig;
use route::Route;

/// A tenant whose component failed to load, or a version that cannot be
/// installed.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// A tenant's component cannot be served.
    #[error("tenant {tenant:?}: {error}")]
    Load {
        /// The tenant's name.
        tenant: String,
        /// Why.
        error: LoadError,
    },
    /// The engine could not be built.
    #[error("{0}")]
    Engine(LoadError),
    /// A reload asks for more than the pool sized at start-up holds.
    #[error("{0} (the instance pool is sized at start-up: restart to grow it)")]
    Pool(String),
}

/// The smallest instance pool a hosting file gets.
const POOL_MIN_INSTANCES: u32 = 200;

/// One tenant, loaded.
struct Tenant {
    name: String,
    runtime: Arc<Runtime>,
}

/// One version of the tenants: what a request is routed with.
struct Version {
    tenants: Vec<Tenant>,
    /// (tenant index, route) for every route of every tenant.
    routes: Arc<[(usize, Route)]>,
}

/// Every tenant of a hosting file, ready to serve; reloadable.
pub struct Hosting {
    /// Connection-level limits, fixed at start-up.
    limits: Limits,
    sandbox: Sandbox,
    pool: Pool,
    current: ArcSwap<Version>,
}

impl Hosting {
    /// Builds the shared sandbox (its pool sized for all tenants together)
    /// and loads every tenant's component into it.
    pub async fn load(
        config: &HostingConfig,
        cache: CompileCache,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, TenantError> {
        // Room for reloads to add tenants: twice what the first version
        // needs, and at least POOL_MIN_INSTANCES.
        let needed: u32 = config.tenants.iter().map(|t| t.limits.max_concurrent).sum();
        let pool = Pool {
            instances: needed.saturating_mul(2).max(POOL_MIN_INSTANCES),
            memory_bytes: config.tenants.iter().map(|t| t.limits.memory_bytes).max().unwrap_or(0),
            deadlines: config.tenants.iter().any(|t| t.limits.has_deadline()),
            keep_resident: config.defaults.keep_resident,
            memory_budget: config
                .defaults
                .memory_budget
                .unwrap_or_else(crate::runtime::budget::default_process_budget),
        };
        let sandbox = Sandbox::new(&pool, cache, metrics).map_err(TenantError::Engine)?;
        let version = load_version(&sandbox, config).await?;
        Ok(Arc::new(Hosting {
            limits: config.defaults.clone(),
            sandbox,
            pool,
            current: ArcSwap::from_pointee(version),
        }))
    }

    /// Loads `config` as the next version and installs it: new requests use
    /// it, requests in flight finish on the version they started with. A
    /// config that fails any check is not installed.
    pub async fn install(&self, config: &HostingConfig) -> Result<(), TenantError> {
        let instances: u32 = config.tenants.iter().map(|t| t.limits.max_concurrent).sum();
        if instances > self.pool.instances {
            return Err(TenantError::Pool(format!(
                "the tenants' max_concurrent add up to {instances}, the pool holds {}",
                self.pool.instances
            )));
        }
        if let Some(t) = config
            .tenants
            .iter()
            .find(|t| t.limits.memory_bytes > self.pool.memory_bytes)
        {
            return Err(TenantError::Pool(format!(
                "tenant {:?} asks for {} MiB per instance, the pool's slots hold {} MiB",
                t.name,
                t.limits.memory_bytes >> 20,
                self.pool.memory_bytes >> 20
            )));
        }
        if !self.pool.deadlines && config.tenants.iter().any(|t| t.limits.has_deadline()) {
            return Err(TenantError::Pool(
                "a tenant sets a deadline but the engine started without epoch interruption".into(),
            ));
        }
        let version = load_version(&self.sandbox, config).await?;
        self.current.store(Arc::new(version));
        Ok(())
    }

    /// Counts a reload in the metrics (`result`: `installed` or `failed`).
    pub fn count_reload(&self, result: &str) {
        reload::count(self.sandbox.metrics(), result);
    }

    /// The current tenants' names, in file order.
    pub fn names(&self) -> Vec<String> {
        self.current.load().tenants.iter().map(|t| t.name.clone()).collect()
    }
}

async fn load_version(sandbox: &Sandbox, config: &HostingConfig) -> Result<Version, TenantError> {
    let mut tenants = Vec::new();
    let mut routes = Vec::new();
    for (i, t) in config.tenants.iter().enumerate() {
        let runtime = Runtime::load_into(sandbox, &t.name, &t.module, t.limits.clone(), t.grants.clone())
            .await
            .map_err(|error| TenantError::Load {
                tenant: t.name.clone(),
                error,
            })?;
        tracing::info!(
            "tenant {:?}: {} loaded; routes: {}",
            t.name,
            t.module.display(),
            t.routes.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
        );
        routes.extend(t.routes.iter().map(|r| (i, r.clone())));
        tenants.push(Tenant {
            name: t.name.clone(),
            runtime,
        });
    }
    Ok(Version {
        tenants,
        routes: routes.into(),
    })
}

impl Handler for Hosting {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn streams_body(&self, authority: &str, path: &str) -> bool {
        let version = self.current.load();
        let best = route::best(version.routes.iter().map(|(t, r)| (*t, r)), authority, path);
        best.is_some_and(|i| version.tenants[i].runtime.streams_body(authority, path))
    }

    async fn run(&self, request: WitRequest, mut caller: CallerState, tag: Arc<str>) -> Outcome {
        // The version this request runs on, whatever is installed meanwhile.
        let version = self.current.load_full();
        let routes = version.routes.clone();
        let best = route::best(routes.iter().map(|(t, r)| (*t, r)), &request.authority, &request.path);
        let Some(index) = best else {
            let host = route::host_of(&request.authority);
            let path = request.path.split('?').next().unwrap_or("");
            let (unanswered, report) = caller.finish();
            return (
                unanswered,
                Some(Failure::NotFound(format!("no tenant serves {host}{path}"))),
                report,
            );
        };
        // RFC 9113 §10.4: a tenant pushes only what it would serve itself.
        caller.restrict_promises(Arc::new(move |authority: &str, path: &str| {
            route::best(routes.iter().map(|(t, r)| (*t, r)), authority, path) == Some(index)
        }));
        let runtime = version.tenants[index].runtime.clone();
        runtime.run(request, caller, tag).await
    }
}
