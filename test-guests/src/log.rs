//! `/log`: writes one line to stdout and one to stderr, then responds
//! `200 logged`. `/log?lines=N` writes N numbered lines to stdout instead
//! (`chatty line I`); with `&gate=U`, only once the test's gate `U` opens
//! (so several instances can be made to log at once).

use push_guest::{Caller, Request, Response};

pub fn run(request: Request, caller: &Caller) {
    if let Some(n) = request.query_param("lines").and_then(|v| v.parse::<u32>().ok()) {
        if let Some(gate) = request.query_param("gate") {
            let _ = crate::gate::wait(gate);
        }
        for i in 0..n {
            println!("chatty line {i}");
        }
        crate::support::respond(caller, Response::text("logged"));
        return;
    }
    println!("stdout line from guest");
    eprintln!("stderr line from guest");
    crate::support::respond(caller, Response::text("logged"));
}
