//! Serving a standard `wasi:http` component of either version: its
//! response streamed through the request's `CallerState`, then each
//! same-origin preload link it named pushed from a fresh instance of its
//! own. [`HttpPre`] is the one place the versions differ (which exchange
//! runs the call).

use std::sync::Arc;

use tokio::sync::Mutex;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::handler::{Failure, Outcome};
use crate::http2::hints;
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::push::promised::PromisedStream;
use crate::runtime::Runtime;
use crate::runtime::instance::Instance;
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::{IncomingBody, Timing};
use crate::runtime::wasi_http::deliver::{self, Delivered, GuestResponse};
use crate::runtime::wasi_http::{p2, p3};

/// A pre-instantiated standard component, of either version.
#[derive(Clone, Copy)]
pub enum HttpPre<'a> {
    /// `wasi:http/proxy@0.2` (`incoming-handler`).
    P2(&'a ProxyPre<HostState>),
    /// `wasi:http/service@0.3` (`handler`).
    P3(&'a ServicePre<HostState>),
}

impl HttpPre<'_> {
    /// Runs one call of the component in `instance` (see each version's
    /// `exchange`); instantiates it first if it is fresh.
    pub async fn exchange<D, R>(
        self,
        instance: &mut Instance,
        request: &WitRequest,
        body: IncomingBody,
        caller: Option<&Arc<Mutex<CallerState>>>,
        deliver: D,
    ) -> (wasmtime::Result<()>, Timing, Option<R>)
    where
        D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
    {
        match self {
            HttpPre::P2(pre) => p2::proxy::exchange(instance, pre, request, body, deliver).await,
            HttpPre::P3(pre) => p3::service::exchange(instance, pre, request, body, caller, deliver).await,
        }
    }
}

impl Runtime {
    /// A `wasi:http` guest's request: its response streamed through
    /// `caller`, then each preload link it named pushed from a fresh
    /// instance of its own.
    pub(in crate::runtime) async fn run_http(
        &self,
        pre: HttpPre<'_>,
        mut request: WitRequest,
        mut caller: CallerState,
        tag: Arc<str>,
        slot: impl Sized,
    ) -> Outcome {
        let early = caller.early_hints();
        let mut instance = self.instance(CallerState::detached(), tag.clone());
        let preempted = instance.store.data().preempted.clone();
        let link_push = self.limits.link_push;
        let body = match caller.take_body_stream() {
            Some(streamed) => IncomingBody::Streamed(streamed),
            None => IncomingBody::Read(std::mem::take(&mut request.body)),
        };
        // Shared with a push:handler@0.2 guest's pusher, which may promise
        // while the main body streams.
        let caller = Arc::new(Mutex::new(caller));
        let (path, tag_ref, caller_ref) = (request.path.as_str(), &*tag, &*caller);
        let deliver = async move |response| deliver::deliver_main(response, caller_ref, link_push, path, tag_ref).await;
        let exchange = pre.exchange(&mut instance, &request, body, Some(&caller), deliver);
        // Push off: a burst of promises' 103 goes out when the guest yields.
        let outcome = self.bounded(hints::flush_on_yield(exchange, early, &preempted)).await;
        let (result, timing, delivered) = match outcome {
            Some((result, timing, delivered)) => (Some(result), timing, delivered),
            None => (None, Timing::default(), None),
        };
        let mut failure = self.failure(result, &instance.store);
        if let Some(p3) = &instance.store.data().p3 {
            let mut c = caller.lock().await;
            c.report.pushed += p3.pushed;
            c.report.refused += p3.refused;
        }
        // A response h2 could not send is the guest's fault too: that
        // instance is not kept.
        let undelivered = match &delivered {
            Some(Delivered::Failed(why)) if failure.is_none() => Some(Failure::Errored(why.clone())),
            _ => None,
        };
        self.give_back(instance, failure.as_ref().or(undelivered.as_ref()), &tag);
        drop(slot);
        let promised = match delivered {
            Some(Delivered::Sent(promised)) => promised,
            Some(Delivered::Failed(why)) => {
                failure.get_or_insert(Failure::Errored(why));
                Vec::new()
            }
            None => Vec::new(),
        };
        // The main instance is gone (and its slot free): each push runs the
        // component again, for a GET of the promised path.
        for stream in promised {
            let pushed = self.push_from_http(pre, &request, stream, &tag).await;
            if pushed {
                caller.lock().await.report.pushed += 1;
            }
        }
        let (unanswered, mut report) = caller.lock().await.finish();
        report.tenant = Some(self.tenant_metrics.clone());
        report.instantiate = timing.instantiate;
        report.handle = timing.handle;
        (unanswered, failure, report)
    }

    /// Fills `stream` with the component's answer to a `GET` of its path,
    /// from a fresh instance (same limits, a slot of its own). A failure
    /// resets the promised stream (CANCEL) and is logged.
    async fn push_from_http(
        &self,
        pre: HttpPre<'_>,
        parent: &WitRequest,
        stream: PromisedStream,
        tag: &Arc<str>,
    ) -> bool {
        let path = stream.path().to_string();
        let request = WitRequest {
            method: "GET".into(),
            scheme: parent.scheme.clone(),
            authority: parent.authority.clone(),
            path: path.clone(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let push_tag: Arc<str> = format!("{tag} push {path}").into();
        let Some(_permit) = self.admission.admit(&push_tag).await else {
            tracing::warn!("{push_tag}: not pushed: no instance free within the queue timeout");
            return false;
        };
        let _in_use = self.tenant_metrics.instance_started();
        let mut instance = self.instance(CallerState::detached(), push_tag.clone());
        let outcome = self
            .bounded(pre.exchange(
                &mut instance,
                &request,
                IncomingBody::Read(Vec::new()),
                None,
                deliver::buffered,
            ))
            .await;
        let response = match outcome {
            Some((Ok(()), _, Some(Ok(response)))) => Ok(response),
            // The response was refused first (e.g. a body over the cap): a
            // failure of the guest after that follows from it.
            Some((result, _, Some(Err(why)))) => {
                let then = match result {
                    Ok(()) => String::new(),
                    Err(e) => match self.failure(Some(Err(e)), &instance.store) {
                        Some(Failure::Trapped { kind, .. }) => format!(" (the guest then trapped: {kind})"),
                        _ => " (the guest then ran out of time)".to_string(),
                    },
                };
                Err(format!("{why}{then}"))
            }
            Some((Ok(()), _, None)) => Err("the component set no response".to_string()),
            Some((Err(e), ..)) => Err(match self.failure(Some(Err(e)), &instance.store) {
                Some(Failure::Trapped { kind, .. }) => format!("guest trapped: {kind}"),
                _ => format!("handler timed out after {} ms", self.limits.timeout.as_millis()),
            }),
            None => Err(format!(
                "handler timed out after {} ms",
                self.limits.timeout.as_millis()
            )),
        };
        let failure = response.as_ref().err().map(|why| Failure::Errored(why.clone()));
        self.give_back(instance, failure.as_ref(), &push_tag);
        let response = match response {
            Ok(response) => response,
            Err(why) => {
                tracing::warn!("{push_tag}: not pushed: {why}");
                return false;
            }
        };
        match stream.push(response) {
            Ok(()) => true,
            Err(e) => {
                tracing::info!("{push_tag}: not pushed: {e:?}");
                false
            }
        }
    }
}
