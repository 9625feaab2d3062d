//! Helpers shared by the behaviours.

use std::time::{Duration, Instant};

use push_guest::{Caller, Error, Request, Response};

/// Sends `response`, logging a failure to stderr.
pub fn respond(caller: &Caller, response: Response) {
    if let Err(err) = caller.respond(response) {
        eprintln!("test-guests: respond failed: {err:?} ({err})");
    }
}

/// The query parameter `name` as a number, or a `400` sent to the caller.
pub fn query_number(request: &Request, caller: &Caller, name: &str) -> Option<u64> {
    let parsed = request.query_param(name).and_then(|v| v.parse().ok());
    if parsed.is_none() {
        respond(
            caller,
            Response::text(format!("missing or invalid query parameter {name}=N")).with_status(400),
        );
    }
    parsed
}

/// Busy-waits (no sleeping: the CPU stays busy) for `duration` by the WASI
/// monotonic clock.
pub fn busy_wait(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::black_box(());
    }
}

/// One line describing the outcome of a call that is expected to fail:
/// the error's `Display`, or `unexpected ok`.
pub fn outcome<T>(result: &Result<T, Error>) -> String {
    match result {
        Ok(_) => "unexpected ok".to_owned(),
        Err(err) => err.to_string(),
    }
}
