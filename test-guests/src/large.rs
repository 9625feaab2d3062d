//! `/large?bytes=N`: promises `GET /large-push`, responds `200` with N bytes
//! (byte i is `i % 251`, as `application/octet-stream`), then pushes the same
//! N bytes. `400` if `bytes` is missing or not a number.

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let Some(n) = support::query_number(&request, caller, "bytes") else {
        return;
    };
    let body: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();

    let promised = caller.promise(PushPromise::get("/large-push"));
    if let Err(err) = &promised {
        eprintln!("large: promise failed: {err:?}");
    }
    support::respond(caller, Response::bytes(body.clone()));
    if let Ok(promised) = promised
        && let Err(err) = caller.push(promised, Response::bytes(body))
    {
        eprintln!("large: push failed: {err:?}");
    }
}
