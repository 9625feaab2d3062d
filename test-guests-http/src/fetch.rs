//! `/fetch?url=U[&times=N]`: a GET of `U` through
//! `wasi:http/outgoing-handler` (`N` times, answering with the last).
//! Answers `200` with the body it got, or `502` with `error: <error-code>`
//! when the request failed (push-host denies hosts its tenant does not
//! allow).

use std::io::Read as _;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, OutgoingRequest, ResponseOutparam, Scheme};

use crate::{param, respond};

pub fn fetch(query: &str, out: ResponseOutparam) {
    let url = param(query, "url").unwrap_or("");
    let times: usize = param(query, "times").and_then(|n| n.parse().ok()).unwrap_or(1);
    let mut outcome = Err(String::new());
    for _ in 0..times.max(1) {
        outcome = get_url(url);
    }
    match outcome {
        Ok((status, body)) => {
            let text = format!("status {status}\n{}", String::from_utf8_lossy(&body));
            respond(out, 200, &[("content-type", "text/plain")], text.as_bytes());
        }
        Err(e) => respond(
            out,
            502,
            &[("content-type", "text/plain")],
            format!("error: {e}\n").as_bytes(),
        ),
    }
}

/// A GET of `url` (`scheme://authority/path`): its status and body.
pub fn get_url(url: &str) -> Result<(u16, Vec<u8>), String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&if scheme == "https" { Scheme::Https } else { Scheme::Http }));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(path));
    get(request)
}

fn get(request: OutgoingRequest) -> Result<(u16, Vec<u8>), String> {
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|()| "response taken twice")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.consume().map_err(|()| "body taken")?;
    let mut stream = body.stream().map_err(|()| "stream taken")?;
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    Ok((status, bytes))
}
