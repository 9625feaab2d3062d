//! `/spin`: an infinite busy loop that never responds (only the host can stop
//! it, e.g. by epoch interruption or fuel). Prints `spin: started` to stdout
//! first, so a test can wait for it in the host's log.

use std::hint::black_box;

use push_guest::{Caller, Request};

pub fn run(_request: Request, _caller: &Caller) {
    println!("spin: started");
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}
