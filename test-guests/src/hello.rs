//! `/hello`: responds `200 hello`.

use push_guest::{Caller, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    crate::support::respond(caller, Response::text("hello"));
}
