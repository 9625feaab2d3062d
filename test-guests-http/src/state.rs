//! `/state`: increments a static counter and answers with its new value:
//! always `1` when every request gets a fresh instance, `1, 2, 3, …` from
//! an instance kept between requests (`--instance-reuse`).

use std::sync::atomic::{AtomicU32, Ordering};

use wasip2::http::types::ResponseOutparam;

use crate::respond;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn state(out: ResponseOutparam) {
    let value = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    respond(
        out,
        200,
        &[("content-type", "text/plain")],
        value.to_string().as_bytes(),
    );
}
