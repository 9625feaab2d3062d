//! `/sleep?ms=N`: sleeps N milliseconds in a WASI host call (not guest code,
//! so epoch interruption cannot stop it), then responds `200 slept N ms`.
//! Prints `sleep: sleeping N ms` to stdout first.

use std::time::Duration;

use push_guest::{Caller, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let Some(ms) = support::query_number(&request, caller, "ms") else {
        return;
    };
    println!("sleep: sleeping {ms} ms");
    std::thread::sleep(Duration::from_millis(ms));
    support::respond(caller, Response::text(format!("slept {ms} ms")));
}
