//! `/promise-then-fail?how=trap|spin`: promises `GET /doomed/0` and
//! `/doomed/1`, then fails without responding or pushing: `trap` panics
//! (a wasm trap), `spin` loops until the host's deadline stops it. The host
//! must reset both promised streams with CANCEL and answer `500`/`504`.

use push_guest::{Caller, PushPromise, Request, Response};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let promises: Vec<_> = (0..2)
        .filter_map(|i| caller.promise(PushPromise::get(format!("/doomed/{i}"))).ok())
        .collect();
    println!("promise-then-fail: promised {}", promises.len());
    match request.query_param("how") {
        Some("trap") => panic!("promise-then-fail: trapping with {} promises open", promises.len()),
        Some("spin") => {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        _ => support::respond(caller, Response::text("how=trap|spin").with_status(400)),
    }
}
