//! Failures: a trap after the body started (once the test's gate opens).

use wasip3::http::types::Response;

use crate::{fetch, param, streamed};

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
