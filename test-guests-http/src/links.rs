//! `/links?n=N[&foreign][&nopush][&cross][&fail][&big=C]`: an HTML page whose
//! response links `/asset/1` .. `/asset/N` with `rel=preload`; `foreign`
//! adds a preload of another origin, `nopush` one marked `nopush`
//! (`/asset/nopush`), `cross` one of this origin's `/other/...` path,
//! `fail` one of `/trap` (whose push instance traps), `big=C` one of
//! `/stream?chunks=C&size=4096` (C × 4 KiB). `/asset/K`: `asset K`.

use wasip2::http::types::ResponseOutparam;

use crate::{param, respond};

pub fn page(query: &str, out: ResponseOutparam) {
    let n: usize = param(query, "n").and_then(|n| n.parse().ok()).unwrap_or(2);
    let mut links: Vec<String> = (1..=n)
        .map(|k| format!("</asset/{k}>; rel=preload; as=fetch"))
        .collect();
    if param(query, "foreign").is_some() {
        links.push("<https://cdn.example.net/lib.js>; rel=preload; as=script".into());
    }
    if param(query, "nopush").is_some() {
        links.push("</asset/nopush>; rel=preload; as=fetch; nopush".into());
    }
    if param(query, "cross").is_some() {
        links.push("</other/x.css>; rel=preload; as=style".into());
    }
    if param(query, "fail").is_some() {
        links.push("</trap>; rel=preload; as=fetch".into());
    }
    if let Some(chunks) = param(query, "big") {
        links.push(format!("</stream?chunks={chunks}&size=4096>; rel=preload; as=fetch"));
    }
    let mut headers = vec![("content-type", "text/html; charset=utf-8")];
    headers.extend(links.iter().map(|l| ("link", l.as_str())));
    respond(out, 200, &headers, b"<!doctype html><title>links</title><p>page</p>\n");
}

pub fn asset(name: &str, out: ResponseOutparam) {
    let body = format!("asset {name}\n");
    respond(out, 200, &[("content-type", "text/plain")], body.as_bytes());
}
