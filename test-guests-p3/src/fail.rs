//! Failures: a trap after the body started (once the test's gate opens),
//! an allocation of `mb` MiB (over the memory limit: a trap).

use wasip3::http::types::Response;

use crate::{fetch, number, param, streamed, text};

/// Returns a streamed response, writes one chunk, then waits for the gate
/// at `url` (an outgoing GET) and traps.
pub fn trap_after_body(query: &str) -> Response {
    let url = param(query, "url").unwrap_or_default().to_string();
    let (response, mut body, _trailers) = streamed(200);
    wasip3::wit_bindgen::spawn(async move {
        body.write_all(b"first chunk\n".to_vec()).await;
        eprintln!("trap-after-body: first chunk written");
        fetch::get(&url).await.ok();
        panic!("test-guests-p3: trap after the body started");
    });
    response
}

/// Allocates and touches `mb` MiB, then answers with the count.
pub fn alloc(query: &str) -> Response {
    let mb = number(query, "mb", 1);
    let block = vec![1u8; mb << 20];
    text(
        200,
        &format!(
            "allocated {} MiB\n",
            block.iter().map(|b| *b as usize).sum::<usize>() >> 20
        ),
    )
}

/// Spins forever (the deadline stops it); says so first.
pub fn spin() -> ! {
    eprintln!("test-guests-p3: spinning");
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}
