//! {{name}}: a standard `wasi:http@0.3` handler that pushes through
//! push-host (`push:handler@0.2.0`). It promises the page's stylesheet,
//! pushes it, and returns the page; on another 0.3 host the page is served
//! without the push.

use push_guest::p3::Pusher;
use wasip3::http::types::{ErrorCode, Request, Response};

struct Service;

wasip3::http::service::export!(Service);

impl wasip3::exports::http::handler::Guest for Service {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let path = request.get_path_with_query().unwrap_or_default();
        if path == "/style.css" {
            // A client that did not take the push asks for it.
            return wasip3::http_compat::http_into_wasi_response(stylesheet());
        }
        match Pusher::for_request(&request).and_then(|pusher| pusher.promise("/style.css")) {
            // The pushed response follows the main one's head.
            Ok(promised) => {
                if let Err(err) = promised.push(stylesheet()) {
                    eprintln!("the stylesheet was not pushed: {err}");
                }
            }
            Err(err) => eprintln!("no push of /style.css: {err}"),
        }
        let page = "<!doctype html><link rel=stylesheet href=/style.css><h1>Hello from {{name}}</h1>\n";
        wasip3::http_compat::http_into_wasi_response(text(page, "text/html"))
    }
}

fn stylesheet() -> http::Response<String> {
    text("h1 { color: rebeccapurple }\n", "text/css")
}

fn text(body: &str, content_type: &str) -> http::Response<String> {
    http::Response::builder()
        .header("content-type", content_type)
        .header("content-length", body.len())
        .body(body.to_string())
        .expect("a valid response")
}
