//! `/gate?url=U`: prints `gate: waiting`, then waits at a gate the test
//! holds: a GET of `U` (the test's own server on loopback, allowed with
//! `--allow-outbound-host`) that the test answers when it is ready. Then
//! responds `200 gate opened`. A guest that is certainly still running,
//! for as long as a test needs, with no timing involved.
//!
//! `/spin-gate?url=U`: the same, but busy: prints `spin-gate: started`, then
//! computes (checking the gate without blocking) until the gate opens, and
//! responds `200 spun`: a CPU-bound guest that runs exactly as long as the
//! test needs.
//!
//! [`wait`] is the gate itself, for other behaviours.

use std::io::Read as _;

use push_guest::{Caller, Request, Response};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, OutgoingRequest, Scheme};

use crate::support;

pub fn run(request: Request, caller: &Caller) {
    let url = request.query_param("url").unwrap_or_default().to_string();
    println!("gate: waiting");
    match wait(&url) {
        Ok(()) => support::respond(caller, Response::text("gate opened")),
        Err(e) => support::respond(caller, Response::text(format!("gate failed: {e}")).with_status(502)),
    }
}

pub fn run_spinning(request: Request, caller: &Caller) {
    let url = request.query_param("url").unwrap_or_default().to_string();
    println!("spin-gate: started");
    match open(&url, true) {
        Ok(()) => support::respond(caller, Response::text("spun")),
        Err(e) => support::respond(caller, Response::text(format!("gate failed: {e}")).with_status(502)),
    }
}

/// Waits until the test answers a GET of `url` (`http://host:port/path`).
pub fn wait(url: &str) -> Result<(), String> {
    open(url, false)
}

/// A GET of `url`, waited for by blocking or (`spin`) by computing.
fn open(url: &str, spin: bool) -> Result<(), String> {
    let rest = url.strip_prefix("http://").ok_or("the gate url must be http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(if path.is_empty() { "/" } else { path }));
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    let ready = future.subscribe();
    if spin {
        let mut n = 0u64;
        while !ready.ready() {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    } else {
        ready.block();
    }
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|()| "response taken twice")?
        .map_err(|e| format!("{e:?}"))?;
    let body = response.consume().map_err(|()| "body taken")?;
    let mut stream = body.stream().map_err(|()| "stream taken")?;
    let _ = stream.read_to_end(&mut Vec::new());
    Ok(())
}
