//! `/promise-post`: tries four invalid promises (method `POST`, a path without
//! a leading `/`, a `:path` pseudo-header, a `content-length` header), each
//! expected to fail with `invalid`, then responds `200` with one line per
//! attempt.

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support::{self, outcome};

pub fn run(_request: Request, caller: &Caller) {
    let attempts = [
        PushPromise::new("POST", "/resource"),
        PushPromise::get("resource"),
        PushPromise::get("/resource").with_header(":path", "/other"),
        PushPromise::get("/resource").with_header("content-length", "0"),
    ];
    // An unexpectedly accepted promise is dropped right away (cancelled).
    let lines: Vec<String> = attempts
        .into_iter()
        .map(|promise| outcome(&caller.promise(promise)))
        .collect();
    support::respond(caller, Response::text(lines.join("\n")));
}
