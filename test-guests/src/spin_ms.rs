//! `/spin-ms?ms=N`: busy-waits N milliseconds by the monotonic clock, then
//! responds `200 spun N ms` (`400` if `ms` is missing or not a number).
//! Prints `spin-ms: started` to stdout first, so a test can wait for it in
//! the host's log.

use std::time::Duration;

use push_guest::{Caller, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let Some(ms) = support::query_number(&request, caller, "ms") else {
        return;
    };
    println!("spin-ms: started");
    support::busy_wait(Duration::from_millis(ms));
    support::respond(caller, Response::text(format!("spun {ms} ms")));
}
