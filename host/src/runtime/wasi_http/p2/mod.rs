//! Serving a `wasi:http/proxy` component: its response streamed through the
//! request's `CallerState`, then each same-origin preload link it named
//! pushed from a fresh instance of its own (see [`crate::runtime::wasi_http::p2::proxy`]).

pub mod proxy;

use std::sync::Arc;

use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::handler::{Failure, Outcome};
use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::push::promised::PromisedStream;
use crate::runtime::Runtime;
use crate::runtime::state::HostState;
use proxy::{Delivered, IncomingBody};

impl Runtime {
    /// A `wasi:http` guest's request: its response streamed through
    /// `caller`, then each preload link it named pushed from a fresh
    /// instance of its own.
    pub(in crate::runtime) async fn run_proxy(
        &self,
        pre: &ProxyPre<HostState>,
        mut request: WitRequest,
        mut caller: CallerState,
        tag: Arc<str>,
        slot: impl Sized,
    ) -> Outcome {
        let mut store = self.store(CallerState::detached(), tag.clone());
        let link_push = self.limits.link_push;
        let body = match caller.take_body_stream() {
            Some(streamed) => IncomingBody::Streamed(streamed),
            None => IncomingBody::Read(std::mem::take(&mut request.body)),
        };
        let caller_ref = &mut caller;
        let (path, tag_ref) = (request.path.as_str(), &*tag);
        let deliver = async move |response| proxy::deliver_main(response, caller_ref, link_push, path, tag_ref).await;
        let outcome = self
            .bounded(proxy::exchange(&mut store, pre, &request, body, deliver))
            .await;
        let (result, timing, delivered) = match outcome {
            Some((result, timing, delivered)) => (Some(result), timing, delivered),
            None => (None, proxy::Timing::default(), None),
        };
        let mut failure = self.failure(result, &store);
        drop(store);
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
            let pushed = self.push_from_proxy(pre, &request, stream, &tag).await;
            if pushed {
                caller.report.pushed += 1;
            }
        }
        let (unanswered, mut report) = caller.finish();
        report.tenant = Some(self.tenant_metrics.clone());
        report.instantiate = timing.instantiate;
        report.handle = timing.handle;
        (unanswered, failure, report)
    }

    /// Fills `stream` with the component's answer to a `GET` of its path,
    /// from a fresh instance (same limits, a slot of its own). A failure
    /// resets the promised stream (CANCEL) and is logged.
    async fn push_from_proxy(
        &self,
        pre: &ProxyPre<HostState>,
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
        let mut store = self.store(CallerState::detached(), push_tag.clone());
        let outcome = self
            .bounded(proxy::exchange(
                &mut store,
                pre,
                &request,
                IncomingBody::Read(Vec::new()),
                proxy::buffered,
            ))
            .await;
        let response = match outcome {
            Some((Ok(()), _, Some(Ok(response)))) => response,
            // The response was refused first (e.g. a body over the cap): a
            // failure of the guest after that follows from it.
            Some((result, _, Some(Err(why)))) => {
                let then = match result {
                    Ok(()) => String::new(),
                    Err(e) => match self.failure(Some(Err(e)), &store) {
                        Some(Failure::Trapped { kind, .. }) => format!(" (the guest then trapped: {kind})"),
                        _ => " (the guest then ran out of time)".to_string(),
                    },
                };
                tracing::warn!("{push_tag}: not pushed: {why}{then}");
                return false;
            }
            Some((Ok(()), _, None)) => {
                tracing::warn!("{push_tag}: not pushed: the component set no response");
                return false;
            }
            Some((Err(e), ..)) => {
                let why = match self.failure(Some(Err(e)), &store) {
                    Some(Failure::Trapped { kind, .. }) => format!("guest trapped: {kind}"),
                    _ => format!("handler timed out after {} ms", self.limits.timeout.as_millis()),
                };
                tracing::warn!("{push_tag}: not pushed: {why}");
                return false;
            }
            None => {
                tracing::warn!(
                    "{push_tag}: not pushed: handler timed out after {} ms",
                    self.limits.timeout.as_millis()
                );
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
