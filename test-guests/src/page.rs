//! `/page`: a small HTML page for browsers. Promises its stylesheet
//! `/page.css` and script `/page.js`, responds with the HTML, then pushes
//! both (a client that disables push gets them announced as early hints
//! instead). `/page.css` and `/page.js` serve the same assets when
//! requested; the script adds `<p id="js">script ran</p>` to the page.

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
