//! `/state`: increments a static counter and responds `200` with its new
//! value: always `1` if no state survives between requests.

use std::sync::atomic::{AtomicU32, Ordering};

use push_guest::{Caller, Request, Response};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn run(_request: Request, caller: &Caller) {
    let value = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    crate::support::respond(caller, Response::text(value.to_string()));
}
