//! `/promise-after-respond`: responds `200 responded`, then tries to promise
//! `GET /late` and logs the result (expected: `Err(Closed)`).

use push_guest::{Caller, PushPromise, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    crate::support::respond(caller, Response::text("responded"));
    let result = caller.promise(PushPromise::get("/late"));
    eprintln!("promise-after-respond: {result:?}");
}
