//! `/log`: writes one line to stdout and one to stderr, then responds
//! `200 logged`.

use push_guest::{Caller, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    println!("stdout line from guest");
    eprintln!("stderr line from guest");
    crate::support::respond(caller, Response::text("logged"));
}
