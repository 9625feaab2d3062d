//! `/promise-dropped`: promises `GET /dropped`, drops the handle without
//! pushing, then responds `200 dropped`.

use push_guest::{Caller, PushPromise, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    match caller.promise(PushPromise::get("/dropped")) {
        Ok(promised) => drop(promised),
        Err(err) => eprintln!("promise-dropped: promise failed: {err:?}"),
    }
    crate::support::respond(caller, Response::text("dropped"));
}
