//! Standard `wasi:http/service@0.3` components (component-model async),
//! run with `wasmtime-wasi-http`'s 0.3 support: the request goes in as a
//! `request` whose body is a `stream<u8>` fed from the connection under
//! flow control; the guest's `handle` returns its `response`, whose body
//! the guest goes on writing after it returned. The store's event loop
//! (`run_concurrent`) runs until that body has been delivered, while the
//! response travels the same way as a 0.2 one ([`crate::runtime::wasi_http::deliver`]).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, oneshot};
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::push::caller_state::CallerState;
use crate::push::generated::WitRequest;
use crate::runtime::instance::{Instance, Live};
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::{EndOnFailure, IncomingBody, Timing, incoming};
use crate::runtime::wasi_http::deliver::GuestResponse;

/// Calls the component's `handle` for `request` in `instance` (instantiated
/// first if fresh) and hands the
/// response it returns (or its error code) to `deliver`, keeping the
/// store's event loop running until `deliver` is done, so the guest can
/// write the body after `handle` returned. The guest reads `body`.
/// Returns the call's result, its timing, and what `deliver` returned
/// (`None`: the call failed before it returned a response).
pub async fn exchange<D, R>(
    instance: &mut Instance,
    pre: &ServicePre<HostState>,
    request: &WitRequest,
    body: IncomingBody,
    caller: Option<&Arc<Mutex<CallerState>>>,
    deliver: D,
) -> (wasmtime::Result<()>, Timing, Option<R>)
where
    D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
{
    let Instance { store, live, .. } = instance;
    let mut timing = Timing::default();
    let (tx, rx) = oneshot::channel();
    let request = match incoming(request, body) {
        Ok(r) => r,
        Err(e) => return (Err(e), timing, None),
    };
    let (request, request_io) = wasmtime_wasi_http::p3::Request::from_http(store.data_mut().http().hooks, request);
    // Cancelled when the call fails (a trap, the deadline) or is dropped
    // (the outer deadline): the response body and pushed bodies then end in
    // an error at once, which resets their streams.
    let failed = CancellationToken::new();
    let _fail_if_dropped = failed.clone().drop_guard();
    let state = store.data_mut();
    let request = match state.table.push(request) {
        Ok(r) => r,
        Err(e) => return (Err(e.into()), timing, None),
    };
    let p3 = state.p3.get_or_insert_default();
    p3.failed = failed.clone();
    if let Some(caller) = caller {
        // The guest's `pusher.for-request` finds the request by this index.
        p3.requests.insert(request.rep(), caller.clone());
    }
    let outstanding = p3.outstanding.clone();
    // Cancelled when `deliver` is done with the body: the event loop may stop.
    let delivered = CancellationToken::new();
    let (failed_ref, delivered_ref, timing_ref) = (&failed, &delivered, &mut timing);
    let call = async move {
        let started = Instant::now();
        let result = async {
            let service = match live.take() {
                Some(Live::Service(service)) => service,
                _ => pre.instantiate_async(&mut *store).await?,
            };
            let handling = Instant::now();
            timing_ref.instantiate = Some(handling - started);
            let result = store
                .run_concurrent(async |accessor| -> wasmtime::Result<()> {
                    let returned = service.wasi_http_handler().call_handle(accessor, request).await?;
                    let response = match returned {
                        Ok(response) => Ok(accessor.with(|mut store| {
                            let response = store.data_mut().table.delete(response)?;
                            response.into_http(&mut store, request_io)
                        })?),
                        Err(code) => Err(format!("the component answered with error-code {code:?}")),
                    };
                    timing_ref.handle = Some(handling.elapsed());
                    if tx.send(response).is_ok() {
                        delivered_ref.cancelled().await;
                    }
                    // Promises still to answer and pushed bodies still to
                    // send (a push:handler@0.2 guest's) need the loop too.
                    outstanding.settled().await;
                    Ok(())
                })
                .await;
            *live = Some(Live::Service(service));
            result.and_then(|r| r)
        }
        .await;
        if result.is_err() {
            failed_ref.cancel();
        }
        result
    };
    let receive = async {
        let response = tokio::select! {
            biased;
            r = rx => r.ok(),
            _ = failed.cancelled() => None,
        };
        let out = match response {
            Some(response) => {
                let response = response.map(|r| r.map(|body| EndOnFailure::wrap(body, failed.clone())));
                Some(deliver(response).await)
            }
            None => None,
        };
        delivered.cancel();
        out
    };
    let (result, delivered) = tokio::join!(call, receive);
    (result, timing, delivered)
}
