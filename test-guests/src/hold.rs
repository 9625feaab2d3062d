//! `/hold?mb=N&ms=M[&gate=U]`: allocates N MiB (touching every page),
//! prints `hold: holding N MiB`, keeps it while it sleeps M ms in a host
//! call (or, with `gate`, until the test's gate `U` opens), then responds
//! `200 held N MiB`. An allocation that fails aborts (a trap).

use std::hint::black_box;
use std::time::Duration;

use push_guest::{Caller, Request, Response};

pub fn run(request: Request, caller: &Caller) {
    let mb: usize = request.query_param("mb").and_then(|v| v.parse().ok()).unwrap_or(1);
    let ms: u64 = request.query_param("ms").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut held = vec![0u8; mb << 20];
    for byte in held.iter_mut().step_by(4096) {
        *byte = 1;
    }
    black_box(&held);
    println!("hold: holding {mb} MiB");
    match request.query_param("gate") {
        Some(gate) => {
            let _ = crate::gate::wait(gate);
        }
        None => std::thread::sleep(Duration::from_millis(ms)),
    }
    crate::support::respond(caller, Response::text(format!("held {mb} MiB")));
    drop(black_box(held));
}
