//! `/stream?chunks=N&size=S[&gate=U]`: `N` chunks of `S` bytes (chunk `k`
//! is the byte `'a' + k % 26` repeated), each written and flushed on its
//! own, then the trailers `x-chunks: N` and `x-bytes: N*S`. With `gate`,
//! after half the chunks it waits for a GET of `U` (the test's gate) to be
//! answered: a test sees the first half arrive while the guest is held.

use std::io::Write as _;

use wasip2::http::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

use crate::param;

pub fn chunks(query: &str, out: ResponseOutparam) {
    let chunks: usize = param(query, "chunks").and_then(|n| n.parse().ok()).unwrap_or(4);
    let size: usize = param(query, "size").and_then(|n| n.parse().ok()).unwrap_or(1000);
    // `trailer` announces the trailers (HTTP/1.1 sends only announced ones).
    let headers = Fields::from_list(&[
        ("content-type".into(), b"application/octet-stream".to_vec()),
        ("trailer".into(), b"x-chunks, x-bytes".to_vec()),
    ])
    .unwrap();
    let response = OutgoingResponse::new(headers);
    let outgoing = response.body().unwrap();
    ResponseOutparam::set(out, Ok(response));
    let mut stream = outgoing.write().unwrap();
    let gate = param(query, "gate");
    for k in 0..chunks {
        if k == chunks / 2
            && let Some(url) = gate
        {
            let _ = crate::fetch::get_url(url);
        }
        let chunk = vec![b'a' + (k % 26) as u8; size];
        // The stream takes at most 4096 bytes per write: write_all splits.
        stream.write_all(&chunk).unwrap();
        stream.flush().unwrap();
    }
    drop(stream);
    let trailers = Fields::from_list(&[
        ("x-chunks".into(), chunks.to_string().into_bytes()),
        ("x-bytes".into(), (chunks * size).to_string().into_bytes()),
    ])
    .unwrap();
    OutgoingBody::finish(outgoing, Some(trailers)).unwrap();
}
