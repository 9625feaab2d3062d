//! Many tenants on one host (`push-host --config hosting.toml`): one
//! [`Sandbox`] (engine and instance pool) for the process, one component
//! per tenant with its own limits and environment, and requests routed to
//! tenants by authority and path prefix ([`route`]).
//!
//! - [`config`]: the hosting file and its checks.
//! - [`route`]: routes and the longest-match rule.

pub mod config;
pub mod route;

use std::sync::Arc;

use crate::cache::CompileCache;
use crate::caller::CallerState;
use crate::config::Limits;
use crate::generated::WitRequest;
use crate::handler::{Failure, Handler, Outcome};
use crate::runtime::{LoadError, Pool, Runtime, Sandbox};
use config::HostingConfig;
use route::Route;

/// A tenant whose component failed to load.
#[derive(Debug, thiserror::Error)]
#[error("tenant {tenant:?}: {error}")]
pub struct TenantError {
    /// The tenant's name.
    pub tenant: String,
    /// Why its component cannot be served.
    pub error: LoadError,
}

/// One tenant, loaded.
struct Tenant {
    name: String,
    runtime: Arc<Runtime>,
}

/// Every tenant of a hosting file, ready to serve.
pub struct Hosting {
    limits: Limits,
    tenants: Vec<Tenant>,
    /// (tenant index, route) for every route of every tenant.
    routes: Arc<[(usize, Route)]>,
}

impl Hosting {
    /// Builds the shared sandbox (its pool sized for all tenants together)
    /// and loads every tenant's component into it.
    pub async fn load(config: &HostingConfig, cache: CompileCache) -> Result<Arc<Self>, TenantError> {
        let pool = Pool {
            instances: config.tenants.iter().map(|t| t.limits.max_concurrent).sum(),
            memory_bytes: config.tenants.iter().map(|t| t.limits.memory_bytes).max().unwrap_or(0),
            deadlines: config.tenants.iter().any(|t| t.limits.has_deadline()),
            keep_resident: config.defaults.keep_resident,
            memory_budget: config
                .defaults
                .memory_budget
                .unwrap_or_else(crate::budget::default_process_budget),
        };
        let sandbox = Sandbox::new(&pool, cache).map_err(|error| TenantError {
            tenant: String::new(),
            error,
        })?;
        let mut tenants = Vec::new();
        let mut routes = Vec::new();
        for (i, t) in config.tenants.iter().enumerate() {
            let runtime = Runtime::load_into(&sandbox, &t.module, t.limits.clone(), t.env.clone())
                .await
                .map_err(|error| TenantError {
                    tenant: t.name.clone(),
                    error,
                })?;
            tracing::info!(
                "tenant {:?}: {} loaded; routes: {}",
                t.name,
                t.module.display(),
                t.routes.iter().map(|r| format!("{r}")).collect::<Vec<_>>().join(", ")
            );
            routes.extend(t.routes.iter().map(|r| (i, r.clone())));
            tenants.push(Tenant {
                name: t.name.clone(),
                runtime,
            });
        }
        Ok(Arc::new(Hosting {
            limits: config.defaults.clone(),
            tenants,
            routes: routes.into(),
        }))
    }

    /// The tenants' names, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.tenants.iter().map(|t| t.name.as_str()).collect()
    }
}

impl Handler for Hosting {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    async fn run(&self, request: WitRequest, mut caller: CallerState, tag: Arc<str>) -> Outcome {
        let routes = self.routes.clone();
        let best = route::best(routes.iter().map(|(t, r)| (*t, r)), &request.authority, &request.path);
        let Some(index) = best else {
            let host = route::host_of(&request.authority);
            let path = request.path.split('?').next().unwrap_or("");
            return (
                caller.take_unanswered(),
                Some(Failure::NotFound(format!("no tenant serves {host}{path}"))),
            );
        };
        // RFC 9113 §10.4: a tenant pushes only what it would serve itself.
        caller.restrict_promises(Arc::new(move |authority: &str, path: &str| {
            route::best(routes.iter().map(|(t, r)| (*t, r)), authority, path) == Some(index)
        }));
        let tenant = &self.tenants[index];
        tenant.runtime.run(request, caller, tag).await
    }
}
