//! Failures: `/error-code` answers with an `error-code` instead of a
//! response, `/trap` panics, `/none` returns without answering, `/spin`
//! never returns, `/trap-after-body[?gate=U]` sets a 200, writes and
//! flushes 7 bytes of its body, (waits at the test's gate `U`,) then
//! panics; `/trap-after-set` sets a 200 and panics before writing.

use std::io::Write as _;

use wasip2::http::types::{ErrorCode, Fields, OutgoingResponse, ResponseOutparam};

pub fn error_code(out: ResponseOutparam) {
    ResponseOutparam::set(
        out,
        Err(ErrorCode::InternalError(Some("test-guests-http: boom".into()))),
    );
}

pub fn trap() {
    panic!("test-guests-http: a panic in the handler");
}

pub fn none(out: ResponseOutparam) {
    drop(out);
}

pub fn spin() {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

pub fn trap_after_body(query: &str, out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = outgoing.write().expect("stream taken once");
    stream.write_all(b"partial").expect("body written");
    stream.flush().expect("body flushed");
    if let Some(gate) = crate::param(query, "gate") {
        let _ = crate::fetch::get_url(gate);
    }
    panic!("test-guests-http: a panic after the body started");
}

pub fn trap_after_set(out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let _body = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    panic!("test-guests-http: a panic after the response was set");
}
