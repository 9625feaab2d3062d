//! A Spin SDK 7 handler (`#[http_service]`, crates.io `spin-sdk`) that
//! pushes its page's stylesheet and script through `push-guest`: the only
//! addition to a plain Spin handler is `Pusher::for_http` and the pushes.
//! On Spin (or any 0.3 host without push:handler@0.2.0) the component does
//! not link: this example is push-host's.

// ANCHOR: handler
use push_guest::p3::Pusher;
use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_service;

const STYLE: &str = "body { font-family: sans-serif; color: #234 }\n";
const SCRIPT: &str = "document.title = 'pushed';\n";

#[http_service]
async fn handle(mut req: Request) -> impl IntoResponse {
    let pusher = Pusher::for_http(&mut req);
    match req.uri().path() {
        "/style.css" => asset("text/css", STYLE),
        "/app.js" => asset("text/javascript", SCRIPT),
        _ => {
            for (path, kind, body) in [
                ("/style.css", "text/css", STYLE),
                ("/app.js", "text/javascript", SCRIPT),
            ] {
                match pusher.as_ref().map_err(Clone::clone).and_then(|p| p.promise(path)) {
                    Ok(promised) => {
                        if let Err(e) = promised.push(asset(kind, body)) {
                            eprintln!("push {path}: {e}");
                        }
                    }
                    Err(e) => eprintln!("promise {path}: {e}"),
                }
            }
            http::Response::builder()
                .header("content-type", "text/html")
                .body(
                    "<!doctype html><link rel=stylesheet href=/style.css><script src=/app.js></script>\
                     <p>Served by a Spin SDK 7 component, its assets pushed.</p>\n"
                        .to_string(),
                )
                .expect("a valid response")
        }
    }
}

fn asset(kind: &str, body: &str) -> http::Response<String> {
    http::Response::builder()
        .header("content-type", kind)
        .body(body.to_string())
        .expect("a valid response")
}
// ANCHOR_END: handler
