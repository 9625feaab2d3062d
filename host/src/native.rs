//! The seed service compiled into the host (`--native-seed`), **for
//! benchmarks only**: the same promise/respond/push calls as
//! `examples/http2-service`, made through the same host code
//! ([`crate::runtime::caller`]: every check, the same `h2` path) and the same
//! admission, but with no wasm instance. Comparing it with the wasm seed
//! measures what the sandbox costs.

use std::sync::Arc;

use serde_json::json;
use wasmtime::component::Resource;

use crate::config::Limits;
use crate::handler::{Admission, Failure, Handler, Outcome, busy};
use crate::push::caller_state::CallerState;
use crate::push::generated::{CallerHost, WitPushPromise, WitRequest, WitResponse};
use crate::push::promised::PromisedStream;
use crate::runtime::state::HostState;

/// The resources promised and pushed, in order (as the seed example).
const RESOURCES: [&str; 3] = ["resource1", "resource2", "resource3"];

/// The seed service as native code.
#[derive(Debug)]
pub struct NativeSeed {
    limits: Limits,
    admission: Admission,
    log: Arc<crate::runtime::stdio::GuestLogLimit>,
    metrics: Arc<crate::ops::metrics::TenantMetrics>,
}

impl NativeSeed {
    /// A native seed service under `limits` (concurrency, pushes, bodies),
    /// counted in `metrics` as tenant `native`.
    pub fn new(limits: Limits, metrics: &Arc<crate::ops::metrics::Metrics>) -> Arc<Self> {
        Arc::new(NativeSeed {
            admission: Admission::new(&limits),
            log: crate::runtime::stdio::GuestLogLimit::new("native".into()),
            metrics: metrics.tenant("native"),
            limits,
        })
    }
}

impl Handler for NativeSeed {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    async fn run(&self, _request: WitRequest, caller: CallerState, tag: Arc<str>) -> Outcome {
        let Some(_permit) = self.admission.admit(&tag).await else {
            return busy(caller, &self.limits, &self.metrics);
        };
        let mut state = HostState::new(
            caller,
            self.limits.memory_bytes,
            Default::default(),
            Default::default(),
            self.log.clone(),
            Default::default(),
            tag.clone(),
        );
        let failure = seed(&mut state, &tag).await.err().map(|e| Failure::Trapped {
            kind: "error".into(),
            detail: format!("{e:#}"),
        });
        let (unanswered, mut report) = state.caller.finish();
        report.tenant = Some(self.metrics.clone());
        (unanswered, failure, report)
    }
}

fn json_response(value: &serde_json::Value) -> WitResponse {
    WitResponse {
        status: 200,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: serde_json::to_vec(value).expect("JSON values serialize"),
    }
}

/// The seed's handler, line for line as `examples/http2-service`.
async fn seed(state: &mut HostState, tag: &str) -> wasmtime::Result<()> {
    let mut promises: Vec<Option<Resource<PromisedStream>>> = Vec::with_capacity(RESOURCES.len());
    for (i, name) in RESOURCES.iter().enumerate() {
        let promise = WitPushPromise {
            method: "GET".into(),
            path: format!("/{name}"),
            headers: Vec::new(),
        };
        match CallerHost::promise(state, promise).await? {
            Ok(promised) => promises.push(Some(promised)),
            Err(err) => {
                tracing::warn!(
                    "{tag} native: Error occurred while sending the promise{}: {err:?}",
                    i + 1
                );
                promises.push(None);
            }
        }
    }
    let main = json_response(&json!({"response": {"name": "main resource"}}));
    if let Err(err) = CallerHost::respond(state, main)? {
        tracing::warn!("{tag} native: Error occurred while sending the response: {err:?}");
    }
    for (i, (name, promised)) in RESOURCES.iter().zip(promises).enumerate() {
        let Some(promised) = promised else { continue };
        let push = json_response(&json!({"push": {"name": name}}));
        if let Err(err) = CallerHost::push(state, promised, push)? {
            tracing::warn!(
                "{tag} native: Error occurred while sending the promised response{}: {err:?}",
                i + 1
            );
        }
    }
    Ok(())
}
