//! `push-host --module X --watch`: one component, reloaded when its file
//! changes (or on SIGHUP) the way tenants are ([`super::reload`]): the new
//! build is loaded and checked beside the old one, which keeps serving
//! until it is installed; a build that does not load is not installed, and
//! the log says why. Requests in flight finish on the version they started
//! with.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::reload::{self, Changes, ReloadError};
use crate::config::{Grants, Limits};
use crate::handler::{Handler, Outcome};
use crate::ops::metrics::Metrics;
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::runtime::cache::CompileCache;
use crate::runtime::{DEFAULT_TENANT, LoadError, Pool, Runtime, Sandbox};

/// A `--module` component that is replaced when its file changes.
pub struct WatchedModule {
    /// As `--module` without `--watch` would serve it.
    limits: Limits,
    sandbox: Sandbox,
    path: PathBuf,
    grants: Grants,
    current: ArcSwap<Runtime>,
}

impl WatchedModule {
    /// Loads `path` into a sandbox of its own, with room in the instance
    /// pool for two versions at once (the old one finishing, the new one
    /// starting).
    pub async fn load(
        path: PathBuf,
        limits: Limits,
        grants: Grants,
        cache: CompileCache,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, LoadError> {
        let mut pool = Pool::for_limits(&limits);
        pool.instances = pool.instances.saturating_mul(2);
        let sandbox = Sandbox::new(&pool, cache, metrics)?;
        let first = Runtime::load_into(&sandbox, DEFAULT_TENANT, &path, limits.clone(), grants.clone()).await?;
        Ok(Arc::new(WatchedModule {
            limits,
            sandbox,
            path,
            grants,
            current: ArcSwap::new(first),
        }))
    }

    /// Reloads the module on every change to its file and on SIGHUP, until
    /// the process ends.
    pub fn spawn_reloads(self: &Arc<Self>) -> Result<(), ReloadError> {
        let files = Arc::new(std::sync::Mutex::new(HashSet::from([reload::absolute(&self.path)])));
        let mut changes = Changes::watch(files)?;
        let this = self.clone();
        tokio::spawn(async move {
            while changes.next().await {
                this.reload().await;
            }
        });
        Ok(())
    }

    /// Loads the file again and installs it if it loads.
    async fn reload(&self) {
        let loaded = Runtime::load_into(
            &self.sandbox,
            DEFAULT_TENANT,
            &self.path,
            self.limits.clone(),
            self.grants.clone(),
        )
        .await;
        let result = match loaded {
            Ok(runtime) => {
                self.current.store(runtime);
                tracing::info!("reloaded {}", self.path.display());
                "installed"
            }
            Err(e) => {
                tracing::warn!("reload failed, the previous version keeps serving: {e}");
                "failed"
            }
        };
        reload::count(self.sandbox.metrics(), result);
    }
}

impl Handler for WatchedModule {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn streams_body(&self, authority: &str, path: &str) -> bool {
        self.current.load().streams_body(authority, path)
    }

    async fn run(&self, request: WitRequest, caller: CallerState, tag: Arc<str>) -> Outcome {
        // The version this request runs on, whatever is installed meanwhile.
        let runtime = self.current.load_full();
        runtime.run(request, caller, tag).await
    }
}
