//! `/oom`: allocates 1 MiB chunks, touches every page and keeps them all,
//! until the allocator fails (an abort, i.e. a trap) or the host stops it.

use std::hint::black_box;

use push_guest::{Caller, Request};

const CHUNK: usize = 1 << 20;

pub fn run(_request: Request, _caller: &Caller) {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        for byte in chunk.iter_mut().step_by(4096) {
            *byte = 1;
        }
        chunks.push(black_box(chunk));
        black_box(&chunks);
    }
}
