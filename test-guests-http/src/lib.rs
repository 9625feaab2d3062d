//! A `wasi:http/incoming-handler` component (the `wasip2` crate, no
//! push-host API) with one route per behaviour, one file per behaviour, for
//! push-host's tests of standard components:
//!
//! - `/links?n=N&foreign&nopush&cross` and `/asset/K` (`links.rs`): a page
//!   with `link: <...>; rel=preload` headers, and the assets they name.
//! - `/stream?chunks=N&size=S` (`stream.rs`): a body written in flushed
//!   chunks, then trailers.
//! - `/fetch?url=U` (`fetch.rs`): an outgoing request, its outcome as the
//!   response.
//! - `/echo` (`echo.rs`): the request as the component saw it.
//! - `/count` (`count.rs`): the request body read as it arrives.
//! - `/state` (`state.rs`): a counter kept in the instance's memory.
//! - `/error-code`, `/trap`, `/none`, `/spin`, `/trap-after-body`,
//!   `/trap-after-set` (`fail.rs`): failures.

mod count;
mod echo;
mod fail;
mod fetch;
mod links;
mod state;
mod stream;

use std::io::Write as _;

use wasip2::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Guests;

impl wasip2::exports::http::incoming_handler::Guest for Guests {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let full = request.path_with_query().unwrap_or_default();
        let (path, query) = full.split_once('?').unwrap_or((&full, ""));
        match path {
            "/links" => links::page(query, out),
            p if p.starts_with("/asset/") => links::asset(&p["/asset/".len()..], out),
            "/stream" => stream::chunks(query, out),
            "/fetch" => fetch::fetch(query, out),
            "/echo" => echo::echo(request, out),
            "/count" => count::count(request, out),
            "/state" => state::state(out),
            "/error-code" => fail::error_code(out),
            "/trap" => fail::trap(),
            "/trap-after-body" => fail::trap_after_body(query, out),
            "/trap-after-set" => fail::trap_after_set(out),
            "/none" => fail::none(out),
            "/spin" => fail::spin(),
            _ => respond(out, 404, &[], b"not found\n"),
        }
    }
}

/// The value of `key` in a query string (`""` for a bare `key`).
fn param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

/// Sends a whole response: `status`, `headers`, `body`.
fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut fields: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    fields.push(("content-length".into(), body.len().to_string().into_bytes()));
    let response = OutgoingResponse::new(Fields::from_list(&fields).expect("valid headers"));
    response.set_status_code(status).expect("valid status");
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = outgoing.write().expect("stream taken once");
    stream.write_all(body).expect("body written");
    stream.flush().expect("body flushed");
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("body finished");
}

wasip2::http::proxy::export!(Guests);
