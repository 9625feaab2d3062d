//! Standard `wasi:http/service@0.3` components (component-model async),
//! run with `wasmtime-wasi-http`'s 0.3 support: the request goes in as a
//! `request` whose body is a `stream<u8>` fed from the connection under
//! flow control; the guest's `handle` returns its `response`, whose body
//! the guest goes on writing after it returned. The store's event loop
//! (`run_concurrent`) runs until that body has been delivered, while the
//! response travels the same way as a 0.2 one ([`crate::runtime::wasi_http::deliver`]).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use wasmtime::component::{Accessor, Resource};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p3::bindings::{Service as HttpService, ServicePre};

use crate::push::generated::WitRequest;
use crate::push::pusher::{Outstanding, PushSide};
use crate::runtime::instance::{Instance, Live};
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::{EndOnFailure, GuestBody, IncomingBody, Timing, incoming};
use crate::runtime::wasi_http::deliver::GuestResponse;

/// What the guest's response (or its error code) is sent on.
pub type ResponseTx = oneshot::Sender<Result<GuestResponse, String>>;

/// The body-reading side of an incoming request, run by the store.
type RequestIo = Pin<Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>>;

/// A request put in a store's table, ready for `handle`.
pub struct Prepared {
    request: Resource<wasmtime_wasi_http::p3::Request>,
    io: RequestIo,
    /// The request's promises and pushed bodies still to go.
    outstanding: Outstanding,
}

/// Puts `request` in `state`'s table, and its push side (if it has one)
/// where `pusher.for-request` finds it.
pub fn prepare(
    state: &mut HostState,
    request: http::Request<GuestBody>,
    side: Option<&PushSide>,
) -> wasmtime::Result<Prepared> {
    let (request, io) = wasmtime_wasi_http::p3::Request::from_http(state.http().hooks, request);
    let request = state.table.push(request)?;
    let p3 = state.p3.get_or_insert_default();
    let outstanding = match side {
        Some(side) => {
            // The guest's `pusher.for-request` finds it by this index.
            p3.requests.insert(request.rep(), side.clone());
            side.outstanding.clone()
        }
        None => Outstanding::default(),
    };
    Ok(Prepared {
        request,
        io: Box::pin(io),
        outstanding,
    })
}

/// Calls `service`'s `handle` with `prepared` and sends what it returns on
/// `tx`; then keeps the call going until `delivered` is cancelled (the
/// guest may write the body after returning) and the request's promises
/// and pushed bodies are settled. Sets `handle_time` when `handle` returns.
/// `Ok(true)`: the guest answered with an error code instead of a response.
pub async fn call(
    accessor: &Accessor<HostState>,
    service: &HttpService,
    prepared: Prepared,
    tx: ResponseTx,
    delivered: &CancellationToken,
    handle_time: &mut Option<Duration>,
) -> wasmtime::Result<bool> {
    let Prepared {
        request,
        io,
        outstanding,
    } = prepared;
    let handling = Instant::now();
    let returned = service.wasi_http_handler().call_handle(accessor, request).await?;
    let response = match returned {
        Ok(response) => Ok(accessor.with(|mut store| {
            let response = store.data_mut().table.delete(response)?;
            response.into_http(&mut store, io)
        })?),
        Err(code) => Err(format!("the component answered with error-code {code:?}")),
    };
    let errored = response.is_err();
    *handle_time = Some(handling.elapsed());
    if tx.send(response).is_ok() {
        delivered.cancelled().await;
    }
    // Promises still to answer and pushed bodies still to send (a
    // push:handler@0.2 guest's) need the loop too.
    outstanding.settled().await;
    Ok(errored)
}

/// The connection's side of a call: waits for the response `call` sends
/// on `rx` (or for `failed`), hands it to `deliver` with a body that fails
/// as soon as `failed` is cancelled, then cancels `delivered` (which it
/// does however it ended) and, if a response was delivered, `responded`.
pub async fn receive<D, R>(
    rx: oneshot::Receiver<Result<GuestResponse, String>>,
    failed: &CancellationToken,
    delivered: &CancellationToken,
    responded: Option<&CancellationToken>,
    deliver: D,
) -> Option<R>
where
    D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
{
    let response = tokio::select! {
        biased;
        r = rx => r.ok(),
        _ = failed.cancelled() => None,
    };
    let out = match response {
        Some(response) => {
            let response = response.map(|r| r.map(|body| EndOnFailure::wrap(body, failed.clone())));
            let out = deliver(response).await;
            if let Some(responded) = responded {
                responded.cancel();
            }
            Some(out)
        }
        None => None,
    };
    delivered.cancel();
    out
}

/// Calls the component's `handle` for `request` in `instance` (instantiated
/// first if fresh) and hands the response it returns (or its error code)
/// to `deliver`, keeping the store's event loop running until `deliver` is
/// done, so the guest can write the body after `handle` returned. The
/// guest reads `body`; `side` is the request's push side, if it has one.
/// Returns the call's result, its timing, and what `deliver` returned
/// (`None`: the call failed before it returned a response).
pub async fn exchange<D, R>(
    instance: &mut Instance,
    pre: &ServicePre<HostState>,
    request: &WitRequest,
    body: IncomingBody,
    side: Option<&PushSide>,
    deliver: D,
) -> (wasmtime::Result<()>, Timing, Option<R>)
where
    D: AsyncFnOnce(Result<GuestResponse, String>) -> R,
{
    let Instance { store, live, .. } = instance;
    let mut timing = Timing::default();
    let (tx, rx) = oneshot::channel();
    let prepared = match incoming(request, body).and_then(|r| prepare(store.data_mut(), r, side)) {
        Ok(p) => p,
        Err(e) => return (Err(e), timing, None),
    };
    // Cancelled when the call fails (a trap, the deadline) or is dropped
    // (the outer deadline): the response body and pushed bodies then end in
    // an error at once, which resets their streams.
    let failed = side.map_or_else(CancellationToken::new, |side| side.failed.clone());
    let _fail_if_dropped = failed.clone().drop_guard();
    // Cancelled when `deliver` is done with the body: the event loop may stop.
    let delivered = CancellationToken::new();
    let (failed_ref, delivered_ref, timing_ref) = (&failed, &delivered, &mut timing);
    let calling = async move {
        let started = Instant::now();
        let result = async {
            let service = match live.take() {
                Some(Live::Service(service)) => service,
                _ => pre.instantiate_async(&mut *store).await?,
            };
            timing_ref.instantiate = Some(started.elapsed());
            let handle_time = &mut timing_ref.handle;
            let result = store
                .run_concurrent(async |accessor| {
                    call(accessor, &service, prepared, tx, delivered_ref, handle_time)
                        .await
                        .map(drop)
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
    let (result, delivered) = tokio::join!(calling, receive(rx, &failed, &delivered, None, deliver));
    (result, timing, delivered)
}
