//! What an instance kept between requests (`--instance-reuse`) carries:
//! `/state` answers with a static counter's new value (always `1` with a
//! fresh instance per request); `/stale-pusher` keeps its request's pusher
//! in a static and answers how a promise on the one an earlier request
//! kept fares (`none kept`, or the error: never a push on that request's
//! stream, nor on this one's).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

use push_guest::p3::Pusher;
use wasip3::http::types::{Request, Response};

use crate::text;

static COUNTER: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static KEPT: RefCell<Option<Pusher>> = const { RefCell::new(None) };
}

pub fn state() -> Response {
    let value = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    text(200, &value.to_string())
}

pub fn stale_pusher(request: &Request) -> Response {
    let mine = Pusher::for_request(request).expect("a pusher for this request");
    let earlier = KEPT.with(|kept| kept.borrow_mut().replace(mine));
    let outcome = match earlier {
        None => "none kept".to_string(),
        Some(pusher) => match pusher.promise("/asset/stale") {
            Ok(_) => "promised on an earlier request's pusher".to_string(),
            Err(e) => format!("earlier pusher: {e}"),
        },
    };
    text(200, &format!("{outcome}\n"))
}
