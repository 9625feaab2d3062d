//! `/respond-twice`: responds `200 first`, then tries to respond `200 second`
//! and logs the result (expected: `Err(AlreadyResponded)`).

use push_guest::{Caller, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    crate::support::respond(caller, Response::text("first"));
    let result = caller.respond(Response::text("second"));
    eprintln!("respond-twice: second respond returned {result:?}");
}
