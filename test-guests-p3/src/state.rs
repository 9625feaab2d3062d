//! What an instance kept between requests (`--instance-reuse`) carries:
//! `/state` answers with a static counter's new value (always `1` with a
//! fresh instance per request); `/stale-pusher` keeps its request's pusher
//! in a static and answers how a promise on the one an earlier request
//! kept fares (`none kept`, or the error: never a push on that request's
//! stream, nor on this one's). `/together?url=GATE` waits at the gate
//! and answers the most requests its instance had in `handle` at once
//! (`--instance-concurrency`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

use push_guest::p3::Pusher;
use wasip3::http::types::{Request, Response};

use crate::text;

static COUNTER: AtomicU32 = AtomicU32::new(0);
static IN_HANDLE: AtomicU32 = AtomicU32::new(0);
static MOST_IN_HANDLE: AtomicU32 = AtomicU32::new(0);

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

/// `/together?url=GATE[&push=NAME]` (`--instance-concurrency`): waits at
/// the gate, then (with `push`) promises and pushes `/asset/NAME` on its
/// own request's pusher, and answers `max N`: the most requests this
/// instance had in `handle` at once so far (always 1 when an instance
/// serves one at a time).
pub async fn together(request: &Request, query: &str) -> Response {
    let pusher = Pusher::for_request(request).expect("a pusher for this request");
    let now = IN_HANDLE.fetch_add(1, Ordering::Relaxed) + 1;
    MOST_IN_HANDLE.fetch_max(now, Ordering::Relaxed);
    let url = crate::param(query, "url").unwrap_or_default();
    let waited = crate::fetch::get(url).await;
    IN_HANDLE.fetch_sub(1, Ordering::Relaxed);
    if let Some(name) = crate::param(query, "push") {
        let path = format!("/asset/{name}");
        match pusher.promise(&path) {
            Ok(promised) => {
                promised.push(http::Response::new(format!("asset {name}\n"))).ok();
            }
            Err(e) => return text(500, &format!("promise {path}: {e}\n")),
        }
    }
    match waited {
        Ok(_) => text(200, &format!("max {}\n", MOST_IN_HANDLE.load(Ordering::Relaxed))),
        Err(code) => text(500, &format!("gate failed: {code:?}\n")),
    }
}
