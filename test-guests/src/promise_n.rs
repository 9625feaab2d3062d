//! `/promise-n?n=N&spin_ms=M`: busy-waits M ms, promises `GET /n/0` ..
//! `/n/{N-1}` (stopping at the first refusal), busy-waits M ms again, then
//! responds `200 promised K` and pushes each promise with the body `n/i`.
//! Prints `promise-n: promised K` to stdout once the promises are made.
//! `n` defaults to 3, `spin_ms` to 0.

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let n: usize = request.query_param("n").and_then(|v| v.parse().ok()).unwrap_or(3);
    let spin = Duration::from_millis(request.query_param("spin_ms").and_then(|v| v.parse().ok()).unwrap_or(0));
    support::busy_wait(spin);
    let mut promised = Vec::new();
    for i in 0..n {
        match caller.promise(PushPromise::get(format!("/n/{i}"))) {
            Ok(p) => promised.push(p),
            Err(err) => {
                eprintln!("promise-n: promise of /n/{i} failed: {err}");
                break;
            }
        }
    }
    println!("promise-n: promised {}", promised.len());
    support::busy_wait(spin);
    support::respond(caller, Response::text(format!("promised {}", promised.len())));
    for (i, p) in promised.into_iter().enumerate() {
        if let Err(err) = caller.push(p, Response::text(format!("n/{i}"))) {
            eprintln!("promise-n: push of /n/{i} failed: {err}");
        }
    }
}
