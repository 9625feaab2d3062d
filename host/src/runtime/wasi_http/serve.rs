//! Serving a standard `wasi:http` component of either version: its
//! response streamed through the request's `CallerState`, then each
//! same-origin preload link it named pushed from a fresh instance of its
//! own. [`HttpPre`] is the one place the versions differ (which exchange
//! runs the call).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::config::EPOCH_TICK;
use crate::handler::{Failure, Outcome};
use crate::http2::hints;
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::push::promised::PromisedStream;
use crate::push::pusher::PushSide;
use crate::runtime::Runtime;
use crate::runtime::instance::Instance;
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::{IncomingBody, Timing, incoming};
use crate::runtime::wasi_http::deliver::{self, Delivered, GuestResponse};
use crate::runtime::wasi_http::p3::shared::{Ended, SharedInstances, Work};
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
        side: Option<&PushSide>,
        deliver: D,
    ) -> (wasmtime::Result<()>, Timing, Option<R>)
    where
        D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
    {
        match self {
            HttpPre::P2(pre) => p2::proxy::exchange(instance, pre, request, body, deliver).await,
            HttpPre::P3(pre) => p3::service::exchange(instance, pre, request, body, side, deliver).await,
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
        let link_push = self.limits.link_push;
        let body = match caller.take_body_stream() {
            Some(streamed) => IncomingBody::Streamed(streamed),
            None => IncomingBody::Read(std::mem::take(&mut request.body)),
        };
        // Shared with a push:handler@0.2 guest's pusher, which may promise
        // while the main body streams.
        let caller = Arc::new(Mutex::new(caller));
        let side = PushSide::new(caller.clone());
        let (path, tag_ref, caller_ref) = (request.path.as_str(), &*tag, &*caller);
        let deliver = async move |response| deliver::deliver_main(response, caller_ref, link_push, path, tag_ref).await;
        let (mut failure, timing, delivered) = match (pre, &self.shared) {
            (HttpPre::P3(p3_pre), Some(shared)) => {
                self.exchange_shared(shared, p3_pre, &request, body, &side, early, deliver)
                    .await
            }
            _ => {
                let mut instance = self.instance(CallerState::detached(), tag.clone());
                let preempted = instance.store.data().preempted.clone();
                let exchange = pre.exchange(&mut instance, &request, body, Some(&side), deliver);
                // Push off: a burst of promises' 103 goes out when the guest yields.
                let outcome = self.bounded(hints::flush_on_yield(exchange, early, &preempted)).await;
                let (result, timing, delivered) = match outcome {
                    Some((result, timing, delivered)) => (Some(result), timing, delivered),
                    None => (None, Timing::default(), None),
                };
                let failure = self.failure(result, &instance.store);
                // A response h2 could not send is the guest's fault too: that
                // instance is not kept.
                let undelivered = match &delivered {
                    Some(Delivered::Failed(why)) if failure.is_none() => Some(Failure::Errored(why.clone())),
                    _ => None,
                };
                self.give_back(instance, failure.as_ref().or(undelivered.as_ref()), &tag);
                (failure, timing, delivered)
            }
        };
        {
            let mut c = caller.lock().await;
            c.report.pushed += side.counts.pushed.load(Ordering::Relaxed);
            c.report.refused += side.counts.refused.load(Ordering::Relaxed);
        }
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

    /// One call in a shared instance (`--instance-concurrency`): sent to a
    /// worker ([`SharedInstances::dispatch`]), again to another if
    /// that one ended before starting it; the response is delivered from
    /// here as [`p3::service::exchange`] does.
    #[allow(clippy::too_many_arguments)]
    async fn exchange_shared<D, R>(
        &self,
        shared: &Arc<SharedInstances>,
        pre: &ServicePre<HostState>,
        request: &WitRequest,
        body: IncomingBody,
        side: &PushSide,
        early: Option<Arc<hints::EarlyHints>>,
        deliver: D,
    ) -> (Option<Failure>, Timing, Option<R>)
    where
        D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
    {
        let request = match incoming(request, body) {
            Ok(request) => request,
            Err(e) => return (Some(Failure::Errored(format!("{e:#}"))), Timing::default(), None),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (delivered, responded) = (CancellationToken::new(), CancellationToken::new());
        let failed = side.failed.clone();
        let work = Work {
            request,
            side: side.clone(),
            tx,
            delivered: delivered.clone(),
            responded: responded.clone(),
        };
        let (mut ended, preempted) = shared.dispatch(work, |id| self.shared_store(pre, id));
        // The worker enforces the deadline (from when it starts the call);
        // this bound, per attempt, is the last resort: the time a request
        // may wait behind a guest that computes on, plus its own deadline.
        let bound = self.limits.timeout * 2 + EPOCH_TICK * 10;
        let ran = async {
            let outcome = loop {
                let attempt = async {
                    if self.limits.has_deadline() {
                        tokio::time::timeout(bound, &mut ended).await.ok()
                    } else {
                        Some((&mut ended).await)
                    }
                };
                match attempt.await {
                    Some(Ok(Ended::Ran { failure, timing })) => break (failure, timing),
                    Some(Ok(Ended::NotStarted(work))) => {
                        (ended, _) = shared.dispatch(*work, |id| self.shared_store(pre, id));
                    }
                    Some(Err(_)) => {
                        let why = "its shared instance ended before the request did";
                        break (Some(Failure::Errored(why.into())), Timing::default());
                    }
                    None => break (Some(Failure::TimedOut(self.limits.timeout)), Timing::default()),
                }
            };
            if outcome.0.is_some() {
                // The response (if it is still coming) fails at once.
                failed.cancel();
            }
            outcome
        };
        let both = async {
            tokio::join!(
                ran,
                p3::service::receive(rx, &failed, &delivered, Some(&responded), deliver)
            )
        };
        // Push off: a burst of promises' 103 goes out when the guest yields.
        let ((failure, timing), delivered) = hints::flush_on_yield(both, early, &preempted).await;
        (failure, timing, delivered)
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
