//! `/invalid-header`: tries three responses with invalid header fields (a name
//! with a space, a value with a newline, a connection-specific field), each
//! expected to fail with `invalid`, then responds `200` with one line per
//! attempt: the error's `Display` (or `unexpected ok`).

use push_guest::{Caller, Request, Response};

use crate::support::{self, outcome};

pub fn run(_request: Request, caller: &Caller) {
    let attempts = [
        Response::text("bad name").with_header("Bad Name", "v"),
        Response::text("bad value").with_header("x-ok", b"a\nb"),
        Response::text("connection-specific").with_header("connection", "close"),
    ];
    let lines: Vec<String> = attempts
        .into_iter()
        .map(|response| outcome(&caller.respond(response)))
        .collect();
    support::respond(caller, Response::text(lines.join("\n")));
}
