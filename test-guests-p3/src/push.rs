//! Hostile uses of push:handler@0.2.0; each writes its outcome to stderr.

use push_guest::p3::{Error, Pusher};
use wasip3::http::types::{Request, Response};

use crate::{fetch, number, param, streamed, text};

/// Promises again and again after returning a short response, until a
/// promise fails with `closed` (the main body ended), then pushes the one
/// promise it held meanwhile (which keeps the request, and so this task,
/// alive: with nothing outstanding the host ends the request when the main
/// body ends).
pub fn after_end(request: &Request) -> Response {
    let pusher = Pusher::for_request(request).expect("a pusher");
    let held = pusher.promise("/asset/held").expect("a promise");
    let (response, mut body, _trailers) = streamed(200);
    wasip3::wit_bindgen::spawn(async move {
        body.write_all(b"main body\n".to_vec()).await;
        drop(body);
        for attempt in 1..=100_000 {
            match pusher.promise(&format!("/asset/late{attempt}")) {
                // Still open: drop it (the host resets it) and try again.
                Ok(_) => {}
                Err(Error::Closed) => {
                    eprintln!("push-after-end: closed after {attempt} attempts");
                    let pushed = held.push(http::Response::new("asset held\n".to_string()));
                    eprintln!("push-after-end: held promise pushed: {pushed:?}");
                    return;
                }
                Err(e) => {
                    eprintln!("push-after-end: {e}");
                    return;
                }
            }
            wasip3::clocks::monotonic_clock::wait_for(1_000_000).await;
        }
        eprintln!("push-after-end: never closed");
    });
    response
}

/// Pushes a response whose body is never finished (its writer kept open
/// forever).
pub fn never_finished(request: &Request) -> Response {
    let pusher = Pusher::for_request(request).expect("a pusher");
    let promised = pusher.promise("/asset/never").expect("a promise");
    let (pushed, mut body, _trailers) = streamed(200);
    promised.push_wasi(pushed).expect("the push accepted");
    wasip3::wit_bindgen::spawn(async move {
        body.write_all(b"the start of a body that never ends\n".to_vec()).await;
        eprintln!("push-never-finished: pushed body started");
        // Never finished, never dropped: an hour's wait (a future that
        // waits on nothing would trap: wit-bindgen calls it a deadlock).
        wasip3::clocks::monotonic_clock::wait_for(3_600_000_000_000).await;
        drop(body);
    });
    text(200, "main body\n")
}

/// Pushes a streamed response, writes a chunk, then traps once the gate at
/// `url` opens.
pub fn trap(request: &Request, query: &str) -> Response {
    let url = param(query, "url").unwrap_or_default().to_string();
    let pusher = Pusher::for_request(request).expect("a pusher");
    let promised = pusher.promise("/asset/trap").expect("a promise");
    let (pushed, mut body, _trailers) = streamed(200);
    promised.push_wasi(pushed).expect("the push accepted");
    wasip3::wit_bindgen::spawn(async move {
        body.write_all(b"pushed chunk\n".to_vec()).await;
        eprintln!("push-trap: pushed chunk written");
        fetch::get(&url).await.ok();
        panic!("test-guests-p3: trap while a pushed body streams");
    });
    text(200, "main body\n")
}

/// Makes `n` promises; the response counts each outcome.
pub fn promises(request: &Request, query: &str) -> Response {
    let n = number(query, "n", 10_000);
    let pusher = Pusher::for_request(request).expect("a pusher");
    let (mut ok, mut limit, mut other) = (0, 0, 0);
    for i in 0..n {
        match pusher.promise(&format!("/asset/p{i}")) {
            Ok(promised) => {
                ok += 1;
                promised.push(http::Response::new(format!("asset p{i}\n"))).ok();
            }
            Err(Error::LimitExceeded(_)) => limit += 1,
            Err(_) => other += 1,
        }
    }
    text(200, &format!("ok={ok} limit-exceeded={limit} other={other}\n"))
}

/// Pushes a response it writes forever, until the client resets the stream.
pub fn forever(request: &Request) -> Response {
    let pusher = Pusher::for_request(request).expect("a pusher");
    let promised = pusher.promise("/asset/forever").expect("a promise");
    let (pushed, mut body, _trailers) = streamed(200);
    promised.push_wasi(pushed).expect("the push accepted");
    wasip3::wit_bindgen::spawn(async move {
        let mut sent = 0usize;
        loop {
            if !body.write_all(vec![b'x'; 16 * 1024]).await.is_empty() {
                eprintln!("push-forever: the client went away after {sent} bytes");
                return;
            }
            sent += 16 * 1024;
        }
    });
    text(200, "main body\n")
}

/// The checks `promise` and `for-request` make, one line each in the body:
/// a second pusher for the same request, a POST, another origin, a path
/// promised twice (the push diary), `is-refused` on a fresh promise.
pub fn checks(request: &Request) -> Response {
    let pusher = Pusher::for_request(request).expect("a pusher");
    let mut lines = Vec::new();
    let outcome = |r: Result<push_guest::p3::Promised, Error>| match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    lines.push(format!(
        "second pusher: {}",
        match Pusher::for_request(request) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    ));
    lines.push(format!(
        "post: {}",
        outcome(pusher.promise_with("POST", "/asset/post", &[]))
    ));
    lines.push(format!(
        "foreign: {}",
        outcome(pusher.promise("https://example.net/asset/x"))
    ));
    let first = pusher.promise("/asset/twice");
    lines.push(format!(
        "fresh is-refused: {}",
        first
            .as_ref()
            .map(|p| p.is_refused().to_string())
            .unwrap_or_else(|e| e.to_string())
    ));
    lines.push(format!("twice: {}", outcome(pusher.promise("/asset/twice"))));
    if let Ok(first) = first {
        first.push(http::Response::new("asset twice\n".to_string())).ok();
    }
    text(200, &(lines.join("\n") + "\n"))
}

/// A streamed main body: one chunk, then (once the gate at `url` opens) a
/// promise and its push, then a second chunk.
pub fn while_streaming(request: &Request, query: &str) -> Response {
    let url = param(query, "url").unwrap_or_default().to_string();
    let pusher = Pusher::for_request(request).expect("a pusher");
    let (response, mut body, _trailers) = streamed(200);
    wasip3::wit_bindgen::spawn(async move {
        body.write_all(b"first chunk\n".to_vec()).await;
        fetch::get(&url).await.ok();
        match pusher.promise("/asset/mid") {
            Ok(promised) => {
                promised.push(http::Response::new("asset mid\n".to_string())).ok();
            }
            Err(e) => eprintln!("promise-while-streaming: {e}"),
        }
        body.write_all(b"second chunk\n".to_vec()).await;
    });
    response
}
