//! Outgoing requests through `wasi:http/client@0.3`.

use wasip3::http::types::{ErrorCode, Fields, Request, Response, Scheme};

use crate::{param, text};

/// `GET url`: its status, or the error code.
pub async fn get(url: &str) -> Result<u16, ErrorCode> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (_trailers_tx, trailers_rx) = wasip3::wit_future::new(|| Ok(None));
    let (request, _result) = Request::new(Fields::new(), None, trailers_rx, None);
    request
        .set_scheme(Some(&if scheme == "https" { Scheme::Https } else { Scheme::Http }))
        .ok();
    request.set_authority(Some(authority)).ok();
    request.set_path_with_query(Some(path)).ok();
    let response = wasip3::http::client::send(request).await?;
    Ok(response.get_status_code())
}

/// `/fetch?url=U`: `fetched STATUS`, or `denied CODE` (403).
pub async fn fetch(query: &str) -> Response {
    let url = param(query, "url").unwrap_or_default();
    match get(url).await {
        Ok(status) => text(200, &format!("fetched {status}\n")),
        Err(code) => text(403, &format!("denied {code:?}\n")),
    }
}

/// `/wait?url=GATE`: answers `waited` once the gate at `url` answers.
pub async fn wait(query: &str) -> Response {
    let url = param(query, "url").unwrap_or_default();
    match get(url).await {
        Ok(_) => text(200, "waited\n"),
        Err(code) => text(500, &format!("gate failed: {code:?}\n")),
    }
}
