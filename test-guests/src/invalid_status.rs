//! `/invalid-status`: tries status 99 and 600 (each expected to fail with
//! `invalid`), then responds `200` with one line per attempt.

use push_guest::{Caller, Request, Response};

use crate::support::{self, outcome};

pub fn run(_request: Request, caller: &Caller) {
    let lines: Vec<String> = [99, 600]
        .into_iter()
        .map(|status| outcome(&caller.respond(Response::text("bad status").with_status(status))))
        .collect();
    support::respond(caller, Response::text(lines.join("\n")));
}
