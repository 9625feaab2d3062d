//! `/count`: prints `count: started` to stderr, then reads the request body
//! as it arrives and answers `N bytes` (and the trailers it got, if any), or
//! `400 body error: ...` when reading it fails (a body over the host's
//! limit).

use wasip2::http::types::{IncomingBody, IncomingRequest, ResponseOutparam};
use wasip2::io::streams::StreamError;

use crate::respond;

pub fn count(request: IncomingRequest, out: ResponseOutparam) {
    eprintln!("count: started");
    let body = request.consume().expect("body taken once");
    let stream = body.stream().expect("stream taken once");
    let mut total = 0usize;
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => total += chunk.len(),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                let text = format!("body error: {}\n", e.to_debug_string());
                drop(stream);
                respond(out, 400, &[("content-type", "text/plain")], text.as_bytes());
                return;
            }
        }
    }
    drop(stream);
    let trailers = IncomingBody::finish(body);
    trailers.subscribe().block();
    let trailers = match trailers.get() {
        Some(Ok(Ok(Some(fields)))) => fields
            .entries()
            .into_iter()
            .map(|(n, v)| format!(" {n}={}", String::from_utf8_lossy(&v)))
            .collect::<String>(),
        _ => String::new(),
    };
    let text = format!("{total} bytes{trailers}\n");
    respond(out, 200, &[("content-type", "text/plain")], text.as_bytes());
}
