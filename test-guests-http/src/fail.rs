//! Failures: `/error-code` answers with an `error-code` instead of a
//! response, `/trap` panics, `/none` returns without answering, `/spin`
//! never returns.

use wasip2::http::types::{ErrorCode, ResponseOutparam};

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
