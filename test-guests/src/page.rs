//! `/page`: a small HTML page for browsers. Promises its stylesheet
//! `/page.css` and script `/page.js`, responds with the HTML, then pushes
//! both (a client that disables push gets them announced as early hints
//! instead). `/page.css` and `/page.js` serve the same assets when
//! requested; the script adds `<p id="js">script ran</p>` to the page.
//!
//! `/page-gated?url=U`: promises the two assets, then waits at the test's
//! gate (`gate.rs`) before it responds with a page that does not name them:
//! a client fetches them only if the promises reached it (pushed, or as a
//! 103 Early Hints) while the page was still being made.
//! `/page-spin?ms=N`: promises the two assets, computes for N ms (a busy
//! loop, no host call), then responds with the same page.

use push_guest::{Caller, PushPromise, Request, Response};

const HTML: &str = r#"<!doctype html>
<html><head><title>push-host page</title>
<link rel="stylesheet" href="/page.css">
<script src="/page.js"></script>
</head><body><h1 id="title">push-host page</h1></body></html>
"#;
const CSS: &str = "h1 { color: rebeccapurple; }\n";
const JS: &str = "document.addEventListener('DOMContentLoaded', () => \
document.body.insertAdjacentHTML('beforeend', '<p id=\"js\">script ran</p>'));\n";

fn asset(path: &str) -> Response {
    match path {
        "/page.css" => Response::text(CSS).with_content_type("text/css"),
        _ => Response::text(JS).with_content_type("text/javascript"),
    }
}

pub fn run(_request: Request, caller: &Caller) {
    let promised: Vec<_> = ["/page.css", "/page.js"]
        .into_iter()
        .filter_map(|path| caller.promise(PushPromise::get(path)).ok().map(|p| (path, p)))
        .collect();
    let page = Response::text(HTML).with_content_type("text/html; charset=utf-8");
    crate::support::respond(caller, page);
    for (path, promised) in promised {
        let _ = caller.push(promised, asset(path));
    }
}

pub fn run_asset(request: Request, caller: &Caller) {
    crate::support::respond(caller, asset(request.path_only()));
}

/// The page `/page-gated` and `/page-spin` answer with: it names no asset.
const BARE: &str = "<!doctype html>\n<html><head><title>push-host page</title></head>\
<body><h1 id=\"title\">made while its assets loaded</h1></body></html>\n";

fn promise_assets(caller: &Caller) -> Vec<(&'static str, push_guest::Promised)> {
    ["/page.css", "/page.js"]
        .into_iter()
        .filter_map(|path| caller.promise(PushPromise::get(path)).ok().map(|p| (path, p)))
        .collect()
}

fn respond_bare(caller: &Caller, promised: Vec<(&'static str, push_guest::Promised)>) {
    let page = Response::text(BARE).with_content_type("text/html; charset=utf-8");
    crate::support::respond(caller, page);
    for (path, promised) in promised {
        let _ = caller.push(promised, asset(path));
    }
}

pub fn run_gated(request: Request, caller: &Caller) {
    let promised = promise_assets(caller);
    let url = request.query_param("url").unwrap_or_default().to_string();
    println!("page-gated: waiting");
    if let Err(e) = crate::gate::wait(&url) {
        eprintln!("page-gated: the gate failed: {e}");
    }
    respond_bare(caller, promised);
}

pub fn run_spinning(request: Request, caller: &Caller) {
    let Some(ms) = crate::support::query_number(&request, caller, "ms") else {
        return;
    };
    let promised = promise_assets(caller);
    crate::support::busy_wait(std::time::Duration::from_millis(ms));
    respond_bare(caller, promised);
}
