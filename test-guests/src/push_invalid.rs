//! `/push-invalid`: promises `GET /bad`, pushes it with the invalid status
//! 1000, then responds `200` with the outcome of that push (e.g.
//! `push: invalid ...`). The push consumed the promise, so the host resets
//! the promised stream with CANCEL.

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support::{self, outcome};

pub fn run(_request: Request, caller: &Caller) {
    let promised = match caller.promise(PushPromise::get("/bad")) {
        Ok(p) => p,
        Err(err) => {
            support::respond(
                caller,
                Response::text(format!("promise failed: {err}")).with_status(500),
            );
            return;
        }
    };
    let pushed = caller.push(promised, Response::text("never sent").with_status(1000));
    support::respond(caller, Response::text(format!("push: {}", outcome(&pushed))));
}
