//! Standard `wasi:http/incoming-handler` components (the `wasi:http/proxy`
//! world), run with `wasmtime-wasi-http`: the request goes in as an
//! `incoming-request`, and the response the guest sets on its
//! `response-outparam` is streamed to `h2` (DATA frames as the guest writes,
//! then its trailers) or to hyper (HTTP/1.1). Its
//! `link: <...>; rel=preload` headers become pushes ([`crate::runtime::wasi_http::preload`]);
//! the runtime fills each by running the component again.

use std::time::Instant;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::push::generated::WitRequest;
use crate::runtime::instance::{Instance, Live};
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::{EndOnFailure, IncomingBody, Timing, incoming};
use crate::runtime::wasi_http::deliver::GuestResponse;

/// Calls the component's `handle` for `request` in `instance` (instantiated
/// first if fresh) and meanwhile
/// hands the response it sets (or the error code it sets) to `deliver`.
/// The guest reads `body` (`request.body` is not used).
/// Returns the call's result, its timing, and what `deliver` returned
/// (`None`: the guest never set a response).
pub async fn exchange<D, R>(
    instance: &mut Instance,
    pre: &ProxyPre<HostState>,
    request: &WitRequest,
    body: IncomingBody,
    deliver: D,
) -> (wasmtime::Result<()>, Timing, Option<R>)
where
    D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
{
    let Instance { store, live, .. } = instance;
    let mut timing = Timing::default();
    let (tx, mut rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let scheme = if request.scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let resources = incoming(request, body).and_then(|req| {
        let mut http = store.data_mut().http();
        Ok((http.new_incoming_request(scheme, req)?, http.new_response_outparam(tx)?))
    });
    let (req, out) = match resources {
        Ok(r) => r,
        Err(e) => return (Err(e), timing, None),
    };
    let timing_ref = &mut timing;
    // Cancelled when the call fails (a trap, the deadline): the response
    // body then ends in an error at once, which resets its stream, instead
    // of waiting for a writer that will never write again.
    let failed = CancellationToken::new();
    let failed_ref = &failed;
    let call = async move {
        let started = Instant::now();
        let result = async {
            let proxy = match live.take() {
                Some(Live::Proxy(proxy)) => proxy,
                _ => pre.instantiate_async(&mut *store).await?,
            };
            let handling = Instant::now();
            timing_ref.instantiate = Some(handling - started);
            let result = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, req, out)
                .await;
            timing_ref.handle = Some(handling.elapsed());
            *live = Some(Live::Proxy(proxy));
            result
        }
        .await;
        if result.is_err() {
            failed_ref.cancel();
        }
        drop(done_tx);
        result
    };
    let receive = async {
        let response = tokio::select! {
            biased;
            r = &mut rx => r.ok(),
            _ = done_rx => rx.try_recv().ok(),
        };
        match response {
            // The call failed before its response went anywhere: the
            // request is answered as a failure (500 and the trap), not
            // with a response whose body will never come.
            Some(_) if failed.is_cancelled() => None,
            Some(response) => {
                let response = response
                    .map(|r| r.map(|body| EndOnFailure::wrap(body, failed.clone())))
                    .map_err(|code| format!("the component answered with error-code {code:?}"));
                Some(deliver(response).await)
            }
            None => None,
        }
    };
    let (result, delivered) = tokio::join!(call, receive);
    (result, timing, delivered)
}
