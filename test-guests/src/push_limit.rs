//! `/push-limit`: promises `GET /p/0`, `/p/1`, ... until the host refuses,
//! responds `200 promised N: <error>`, then pushes every promise with the body
//! `p/i`. Stops at `MAX_PROMISES` if the host never refuses.

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

/// A bound so that a host without a limit does not loop forever.
const MAX_PROMISES: usize = 10_000;

pub fn run(_request: Request, caller: &Caller) {
    let mut promised = Vec::new();
    let mut refusal = None;
    while promised.len() < MAX_PROMISES {
        match caller.promise(PushPromise::get(format!("/p/{}", promised.len()))) {
            Ok(p) => promised.push(p),
            Err(err) => {
                refusal = Some(err);
                break;
            }
        }
    }
    let summary = match &refusal {
        Some(err) => format!("promised {}: {err}", promised.len()),
        None => format!("promised {}: no error", promised.len()),
    };
    support::respond(caller, Response::text(summary));

    for (i, p) in promised.into_iter().enumerate() {
        if let Err(err) = caller.push(p, Response::text(format!("p/{i}"))) {
            eprintln!("push-limit: push of /p/{i} failed: {err:?}");
        }
    }
}
