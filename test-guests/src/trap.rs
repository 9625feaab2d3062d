//! `/trap`: panics (which traps the component) before responding.

use push_guest::{Caller, Request};

pub fn run(_request: Request, _caller: &Caller) {
    panic!("test-guests: deliberate panic");
}
