//! `/push-spread?n=N&gap_us=G`: promises `GET /p/0` .. `/p/{N-1}`, responds
//! `200 promised K`, then pushes them one by one with G µs of busy work
//! before each push (`n` defaults to 32, `gap_us` to 50). The pushes' HEADERS
//! are then queued while the client's resets of the promises (sent as soon
//! as it sees them) keep arriving: the race the host's reset hold exists for.

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let n: usize = request.query_param("n").and_then(|v| v.parse().ok()).unwrap_or(32);
    let gap = Duration::from_micros(request.query_param("gap_us").and_then(|v| v.parse().ok()).unwrap_or(50));
    let promised: Vec<_> = (0..n)
        .map_while(|i| caller.promise(PushPromise::get(format!("/p/{i}"))).ok())
        .collect();
    support::respond(caller, Response::text(format!("promised {}", promised.len())));
    for (i, p) in promised.into_iter().enumerate() {
        support::busy_wait(gap);
        if let Err(err) = caller.push(p, Response::text(format!("p/{i}"))) {
            eprintln!("push-spread: push of /p/{i} failed: {err:?}");
        }
    }
}
