//! `/seed-slow`: the seed service (promise `/resource1..3`, respond, push the
//! three), with a 300 ms pause between the response and the pushes, so a
//! client's reset of a promise always reaches the host before that push.
//! Failures are logged as the seed logs them.

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};
use serde_json::json;

pub fn run(_request: Request, caller: &Caller) {
    let promises: Vec<_> = (1..=3)
        .map(|n| {
            let promise = caller.promise(PushPromise::get(format!("/resource{n}")));
            if let Err(err) = &promise {
                eprintln!("Error occurred while sending the promise{n}: {err}");
            }
            promise
        })
        .collect();
    if let Err(err) = caller.respond(Response::json(&json!({"response": {"name": "main resource"}}))) {
        eprintln!("Error occurred while sending the response: {err}");
    }
    crate::support::busy_wait(Duration::from_millis(300));
    for (n, promise) in (1..=3).zip(promises) {
        let Ok(promised) = promise else { continue };
        let push = Response::json(&json!({"push": {"name": format!("resource{n}")}}));
        if let Err(err) = caller.push(promised, push) {
            eprintln!("Error occurred while sending the promised response{n}: {err}");
        }
    }
}
