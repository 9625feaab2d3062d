//! `/unreachable`: executes the wasm `unreachable` instruction (a trap without
//! a panic message).

use push_guest::{Caller, Request};

pub fn run(_request: Request, _caller: &Caller) {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("test-guests: /unreachable needs wasm32");
}
