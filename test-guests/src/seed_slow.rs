//! `/seed-slow?refused=PATH`: the seed service (promise `/resource1..3`,
//! respond, push the three), except that between the response and the pushes
//! it waits until the client has reset the promise of `PATH` (polling
//! `Promised::is_refused`; the host's deadline bounds the wait). So a
//! client's reset of that promise always reaches the host before its push,
//! however slow the machine. Without `refused` it pushes at once. Failures
//! are logged as the seed logs them.

use std::time::Duration;

use push_guest::{Caller, PushPromise, Request, Response};
use serde_json::json;

pub fn run(request: Request, caller: &Caller) {
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
    if let Some(awaited) = request.query_param("refused") {
        let promised = promises.iter().flatten().find(|p| p.path() == awaited);
        if let Some(promised) = promised {
            while !promised.is_refused() {
                std::thread::sleep(Duration::from_millis(2));
            }
            println!("seed-slow: the client refused {awaited}");
        }
    }
    for (n, promise) in (1..=3).zip(promises) {
        let Ok(promised) = promise else { continue };
        let push = Response::json(&json!({"push": {"name": format!("resource{n}")}}));
        if let Err(err) = caller.push(promised, push) {
            eprintln!("Error occurred while sending the promised response{n}: {err}");
        }
    }
}
