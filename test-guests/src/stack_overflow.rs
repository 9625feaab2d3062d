//! `/stack-overflow`: unbounded recursion that exhausts the wasm call stack
//! (wasmtime's "call stack exhausted" trap). Frames hold only scalars, which
//! stay in wasm locals, so the guest's shadow stack in linear memory is not
//! what runs out.
//!
//! `/shadow-stack-overflow`: recursion with a 1 KiB array per frame, which
//! exhausts Rust's 1 MiB shadow stack in linear memory first; that ends in an
//! out-of-bounds memory access trap, as a real Rust guest's overflow does.

use std::hint::black_box;

use push_guest::{Caller, Request};

pub fn run(_request: Request, _caller: &Caller) {
    let depth = deep(black_box(1));
    panic!("test-guests: recursion returned {depth}");
}

pub fn run_shadow(_request: Request, _caller: &Caller) {
    let depth = shadow(0);
    panic!("test-guests: recursion returned after {depth} calls");
}

/// Not a tail call (the result is used after the call), so it cannot become a loop.
#[inline(never)]
fn deep(n: u64) -> u64 {
    if black_box(n) == 0 {
        return 0;
    }
    deep(n.wrapping_add(1)).wrapping_mul(3).wrapping_add(n)
}

#[inline(never)]
fn shadow(depth: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(depth % 1024) as usize] = depth as u8;
    black_box(&mut frame);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    shadow(depth + 1) + u64::from(frame[(depth % 1024) as usize])
}
