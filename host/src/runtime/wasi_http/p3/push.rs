//! The host side of `push:handler/push@0.2.0` (`wit/0.2.0/push.wit`): a
//! `wasi:http@0.3` guest's `pusher` bound to the request it was given,
//! `promise` with every check of 0.1 ([`CallerState::promise_stream`]),
//! and `push` of a standard 0.3 `response` whose body is streamed under
//! flow control as the guest writes it, concurrently with the main body.
//!
//! Binding: [`crate::push::pusher::P3Request::requests`] maps the table index of each incoming
//! `request` resource the host passed to `handle` to that request's push side;
//! `pusher.for-request` takes the entry (once), so a pusher can only be for
//! a request this instance was given, and never for another one.

use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::BodyExt as _;
use hyper::body::Body as _;
use tokio_util::sync::CancellationToken;
use wasmtime::component::{Access, HasSelf, Resource};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p3::{Request, Response};

use crate::http2::validate;
use crate::push::generated::{WitError, WitPushPromise};
use crate::push::promised::PromisedStream;
use crate::push::pusher::{Hold, Promised, Pusher};
use crate::runtime::state::HostState;
use crate::runtime::wasi_http::body::EndOnFailure;
use crate::runtime::wasi_http::deliver;
use crate::runtime::wasi_http::p3::generated::{self as v2, Error as V2Error};

/// 0.1's error as 0.2's (0.2 has no `already-responded`: a promise after
/// the main body ended is `closed`).
fn v2_error(e: WitError) -> V2Error {
    match e {
        WitError::PushDisabled => V2Error::PushDisabled,
        WitError::Refused => V2Error::Refused,
        WitError::Invalid(why) => V2Error::Invalid(why),
        WitError::AlreadyResponded | WitError::Closed => V2Error::Closed,
        WitError::LimitExceeded(why) => V2Error::LimitExceeded(why),
    }
}

impl v2::Host for HostState {}

impl v2::HostPusher for HostState {
    fn for_request(&mut self, request: Resource<Request>) -> wasmtime::Result<Result<Resource<Pusher>, V2Error>> {
        let side = self.p3.as_mut().and_then(|p3| p3.requests.remove(&request.rep()));
        match side {
            Some(side) => Ok(Ok(self.table.push(Pusher { side })?)),
            None => Ok(Err(V2Error::Invalid(
                "not a request push-host passed to this handler, or its pusher was already taken".into(),
            ))),
        }
    }

    async fn promise(
        &mut self,
        this: Resource<Pusher>,
        method: String,
        path: String,
        headers: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<Resource<Promised>, V2Error>> {
        let side = self.table.get(&this)?.side.clone();
        let promise = WitPushPromise { method, path, headers };
        let result = side.caller.lock().await.promise_stream(promise).await;
        match result {
            Ok(stream) => {
                let hold = side.outstanding.hold();
                Ok(Ok(self.table.push(Promised { stream, hold, side })?))
            }
            Err(e) => Ok(Err(v2_error(e))),
        }
    }

    fn drop(&mut self, this: Resource<Pusher>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl v2::HostPromised for HostState {
    fn path(&mut self, this: Resource<Promised>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.stream.path.clone())
    }

    fn is_refused(&mut self, this: Resource<Promised>) -> wasmtime::Result<bool> {
        Ok(self.table.get_mut(&this)?.stream.is_refused())
    }

    fn drop(&mut self, this: Resource<Promised>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl<T: Send> v2::HostPromisedWithStore<T> for HasSelf<HostState> {
    fn push(
        mut access: Access<'_, T, Self>,
        this: Resource<Promised>,
        response: Resource<Response>,
    ) -> wasmtime::Result<Result<(), V2Error>> {
        let getter = access.getter();
        let state = access.get();
        let Promised { stream, hold, side } = state.table.delete(this)?;
        let response = state.table.delete(response)?;
        let (failed, outstanding) = (side.failed.clone(), side.outstanding.clone());
        let http = response.into_http_with_getter(&mut access, async { Ok(()) }, move |t| getter(t).http());
        let result = match http {
            Err(e) => Err(V2Error::Invalid(format!("{e:#}"))),
            Ok(response) => {
                // The body's sending holds the event loop now, not the promise.
                let sending = outstanding.hold();
                drop(hold);
                push_streamed(stream, response, failed, sending)
            }
        };
        match &result {
            Ok(()) => side.counts.pushed.fetch_add(1, Ordering::Relaxed),
            Err(V2Error::Refused) => side.counts.refused.fetch_add(1, Ordering::Relaxed),
            Err(_) => 0,
        };
        Ok(result)
    }
}

/// Sends `response` on the promised stream `p`: validated now; its HEADERS
/// once the main response's have gone out, then its body as the guest
/// writes it, from a task that holds `sending`. `Err`: nothing was sent
/// (the stream is reset with CANCEL when `p` drops).
fn push_streamed(
    mut p: PromisedStream,
    response: deliver::GuestResponse,
    failed: CancellationToken,
    sending: Hold,
) -> Result<(), V2Error> {
    let (mut head, body) = response.into_parts();
    deliver::strip_connection_headers(&mut head.headers);
    // wasmtime-wasi-http checks the body against its content-length as it
    // streams; the rest is checked here as 0.1's `push` checks it.
    let declared = deliver::content_length(&head.headers);
    let length = head.headers.remove(http::header::CONTENT_LENGTH);
    let fields: Vec<(String, Vec<u8>)> = head
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    let mut head = validate::response(head.status.as_u16(), &fields, 0).map_err(V2Error::Invalid)?;
    // The length validate set is of an empty body: the guest's (if any) stands.
    head.headers_mut().remove(http::header::CONTENT_LENGTH);
    if let Some(length) = length {
        head.headers_mut().insert(http::header::CONTENT_LENGTH, length);
    }
    if p.is_refused() {
        tracing::info!("{}: push {} refused: stream reset by the client", p.tag, p.path);
        return Err(V2Error::Refused);
    }
    let mut send = p.send.take().expect("a promised stream is pushed once");
    let slot = p.slot.take();
    let (tag, path, conn, head_only) = (p.tag.clone(), std::mem::take(&mut p.path), p.conn.clone(), p.head);
    let mut main_sent = p.main_sent.clone();
    let body = EndOnFailure::wrap(body, failed);
    tokio::spawn(async move {
        let _sending = sending;
        let _slot = slot;
        let id = send.stream_id().as_u32();
        let _ = main_sent.wait_for(|sent| *sent).await;
        if conn.begin_push(id).is_err() {
            tracing::info!("{tag}: push {path} refused: stream reset by the client");
            return;
        }
        let end = head_only || body.is_end_stream();
        let stream = match send.send_response(head, end) {
            Ok(stream) => stream,
            Err(e) => {
                conn.end_push(id);
                conn.on_push_ended(id);
                tracing::info!("{tag}: push {path} failed: {e}");
                return;
            }
        };
        if head_only {
            let mut body = body;
            while let Some(Ok(_)) = body.frame().await {}
        } else if !end && let Err(e) = deliver::stream_body(body, stream, &AtomicBool::new(false), declared).await {
            tracing::info!("{tag}: pushed {path} not delivered: {e}");
        }
    });
    Ok(())
}
