//! `/no-response`: returns without responding.

use push_guest::{Caller, Request};

pub fn run(_request: Request, _caller: &Caller) {}
