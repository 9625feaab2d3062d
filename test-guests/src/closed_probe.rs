//! `/closed-probe`: what the calls return once the client has closed the
//! connection mid-handler. Promises `GET /probe`, prints
//! `closed-probe: started`, then waits (polling `Promised::is_refused`;
//! the host's deadline bounds the wait) until the promised stream is gone,
//! which happens when the client resets it or closes the connection. Then it
//! calls `promise`, `respond` and `push` and prints
//! `closed-probe: promise=<outcome> respond=<outcome> push=<outcome>`.
//! Responds `500` at once if the first promise fails.

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support::{self, outcome};

pub fn run(_request: Request, caller: &Caller) {
    let probe = match caller.promise(PushPromise::get("/probe")) {
        Ok(p) => p,
        Err(err) => {
            support::respond(
                caller,
                Response::text(format!("promise failed: {err}")).with_status(500),
            );
            return;
        }
    };
    println!("closed-probe: started");
    while !probe.is_refused() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let promise = outcome(&caller.promise(PushPromise::get("/probe2")));
    let respond = outcome(&caller.respond(Response::text("too late")));
    let push = outcome(&caller.push(probe, Response::text("too late")));
    println!("closed-probe: promise={promise} respond={respond} push={push}");
}
