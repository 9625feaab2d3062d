//! A `wasi:http/service@0.3` component written with the `wasip3` crate
//! (async exports, `stream<u8>` bodies), with one route per behaviour, one
//! file per behaviour, for push-host's tests of 0.3 components:
//!
//! - `/stream?chunks=N&size=S&empty=E` (`body.rs`): a body written chunk by
//!   chunk (with `E` zero-length writes before each chunk), then trailers.
//! - `/echo` (`body.rs`): the request body and trailers counted as they
//!   arrive; `/ignore-body`: a response that never reads the body.
//! - `/fetch?url=U` (`fetch.rs`): an outgoing request through
//!   `wasi:http/client@0.3`, its outcome as the response; `/wait?url=GATE`:
//!   an answer once the test's gate opens.
//! - `/trap`, `/trap-after-body?url=GATE`, `/alloc?mb=N`, `/spin`
//!   (`fail.rs`): failures.
//! - `/push-after-end`, `/push-never-finished`, `/push-trap?url=GATE`,
//!   `/promises?n=N`, `/push-forever` (`push.rs`): hostile uses of
//!   push:handler@0.2.0; `/promise-checks`: the checks `promise` makes;
//!   `/promise-while-streaming?url=GATE`: a promise between two chunks of
//!   the main body.
//! - `/state`, `/stale-pusher` (`state.rs`): what an instance kept between
//!   requests carries over; `/error-code`: an error code, not a response;
//!   `/together?url=GATE`: how many requests one
//!   instance had in `handle` at once (`--instance-concurrency`).
//!
//! Outcomes the tests wait for are written to stderr (the host logs them).

mod body;
mod fail;
mod fetch;
mod push;
mod state;

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_future, wit_stream};

struct Guests;

wasip3::http::service::export!(Guests);

impl wasip3::exports::http::handler::Guest for Guests {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let full = request.get_path_with_query().unwrap_or_default();
        let (path, query) = full.split_once('?').unwrap_or((&full, ""));
        let query = query.to_string();
        match path {
            "/hello" => Ok(text(200, "hello from a wasip3 component\n")),
            "/state" => Ok(state::state()),
            "/together" => Ok(state::together(&request, &query).await),
            "/stale-pusher" => Ok(state::stale_pusher(&request)),
            "/stream" => Ok(body::stream(&query)),
            "/echo" => Ok(body::echo(request).await),
            "/ignore-body" => Ok(text(200, "ignored\n")),
            "/fetch" => Ok(fetch::fetch(&query).await),
            "/wait" => Ok(fetch::wait(&query).await),
            "/alloc" => Ok(fail::alloc(&query)),
            "/trap" => panic!("test-guests-p3: asked to trap"),
            "/error-code" => Err(ErrorCode::InternalError(Some("test-guests-p3: asked to".into()))),
            "/spin" => fail::spin(),
            "/trap-after-body" => Ok(fail::trap_after_body(&query)),
            "/push-after-end" => Ok(push::after_end(&request)),
            "/push-never-finished" => Ok(push::never_finished(&request)),
            "/push-trap" => Ok(push::trap(&request, &query)),
            "/promises" => Ok(push::promises(&request, &query)),
            "/push-forever" => Ok(push::forever(&request)),
            "/promise-checks" => Ok(push::checks(&request)),
            "/promise-while-streaming" => Ok(push::while_streaming(&request, &query)),
            p if p.starts_with("/asset/") => Ok(text(200, &format!("asset {}\n", &p["/asset/".len()..]))),
            _ => Ok(text(404, "not found\n")),
        }
    }
}

/// The value of `key` in a query string.
fn param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

/// A number from the query, or `default`.
fn number(query: &str, key: &str, default: usize) -> usize {
    param(query, key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A whole response with a text body.
fn text(status: u16, body: &str) -> Response {
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .expect("a valid response");
    wasip3::http_compat::http_into_wasi_response(response).expect("a response")
}

/// Where a streamed response's trailers are set.
type TrailersWriter = wasip3::wit_bindgen::FutureWriter<Result<Option<Fields>, ErrorCode>>;

/// A response whose body the returned writer fills (and whose trailers
/// the returned future writer sets).
fn streamed(status: u16) -> (Response, wasip3::wit_bindgen::StreamWriter<u8>, TrailersWriter) {
    let (body_tx, body_rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _result) = Response::new(Fields::new(), Some(body_rx), trailers_rx);
    response.set_status_code(status).expect("a valid status");
    (response, body_tx, trailers_tx)
}
