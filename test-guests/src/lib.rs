//! Test guests for `push-host`: one component whose behaviour is chosen by the
//! request path (the query string is ignored when routing). Each behaviour
//! lives in its own module; this file only holds the route table.
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p test-guests`
//! (output `target/wasm32-wasip2/release/test_guests.wasm`). Responses are
//! `text/plain` unless a route says otherwise; unknown paths get
//! `404 no such test route`.

use push_guest::{Caller, Handler, Request, Response};

mod closed_probe;
mod echo;
mod env;
mod gate;
mod hello;
mod hold;
mod info;
mod invalid_header;
mod invalid_status;
mod large;
mod log;
mod no_response;
mod oom;
mod page;
mod promise_after_respond;
mod promise_dropped;
mod promise_n;
mod promise_post;
mod promise_then_fail;
mod push_after_reset;
mod push_invalid;
mod push_limit;
mod push_spread;
mod respond_twice;
mod script;
mod seed_slow;
mod sleep;
mod spin;
mod spin_ms;
mod stack_overflow;
mod state;
mod support;
mod trap;
mod unreachable;

/// A behaviour: handles the request like a [`Handler`] would.
type Route = fn(Request, &Caller);

/// Path (without query) → behaviour.
const ROUTES: &[(&str, Route)] = &[
    ("/hello", hello::run),
    ("/trap", trap::run),
    ("/unreachable", unreachable::run),
    ("/stack-overflow", stack_overflow::run),
    ("/shadow-stack-overflow", stack_overflow::run_shadow),
    ("/oom", oom::run),
    ("/spin", spin::run),
    ("/spin-ms", spin_ms::run),
    ("/sleep", sleep::run),
    ("/seed-slow", seed_slow::run),
    ("/no-response", no_response::run),
    ("/respond-twice", respond_twice::run),
    ("/invalid-header", invalid_header::run),
    ("/invalid-status", invalid_status::run),
    ("/promise-post", promise_post::run),
    ("/promise-after-respond", promise_after_respond::run),
    ("/promise-dropped", promise_dropped::run),
    ("/push-limit", push_limit::run),
    ("/echo", echo::run),
    ("/large", large::run),
    ("/push-after-reset", push_after_reset::run),
    ("/state", state::run),
    ("/env", env::run),
    ("/log", log::run),
    ("/info", info::run),
    ("/promise-n", promise_n::run),
    ("/promise-then-fail", promise_then_fail::run),
    ("/closed-probe", closed_probe::run),
    ("/push-invalid", push_invalid::run),
    ("/push-spread", push_spread::run),
    ("/page", page::run),
    ("/hold", hold::run),
    ("/page-gated", page::run_gated),
    ("/page-spin", page::run_spinning),
    ("/gate", gate::run),
    ("/spin-gate", gate::run_spinning),
    ("/page.css", page::run_asset),
    ("/page.js", page::run_asset),
    ("/script", script::run),
];

/// The behaviour for `path` (without query), if any.
fn route(path: &str) -> Option<Route> {
    ROUTES.iter().find(|(route, _)| *route == path).map(|(_, run)| *run)
}

struct TestGuests;

impl Handler for TestGuests {
    fn handle(request: Request, caller: &Caller) {
        match route(request.path_only()) {
            Some(run) => run(request, caller),
            None => support::respond(caller, Response::text("no such test route").with_status(404)),
        }
    }
}

push_guest::export!(TestGuests);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_ignore_the_query() {
        for (i, (path, _)) in ROUTES.iter().enumerate() {
            assert!(path.starts_with('/'));
            assert!(ROUTES[i + 1..].iter().all(|(other, _)| other != path));
        }
        let req = Request::new("GET", "/spin-ms?ms=5");
        assert!(route(req.path_only()).is_some());
        assert!(route("/nope").is_none());
    }
}
