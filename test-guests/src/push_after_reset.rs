//! `/push-after-reset`: promises `GET /r1`, responds `200 ok`, busy-waits about
//! 1500 ms (time for the client to reset the promised stream), then pushes
//! `/r1` and logs the result (expected: `Err(Refused)` if it was reset).

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

pub fn run(_request: Request, caller: &Caller) {
    let promised = caller.promise(PushPromise::get("/r1"));
    support::respond(caller, Response::text("ok"));
    let promised = match promised {
        Ok(promised) => promised,
        Err(err) => {
            eprintln!("push-after-reset: promise failed: {err:?}");
            return;
        }
    };
    support::busy_wait(Duration::from_millis(1500));
    let result = caller.push(promised, Response::text("r1"));
    eprintln!("push-after-reset: {result:?}");
}
