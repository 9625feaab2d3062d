//! A standard `wasi:http/incoming-handler` component, written with the
//! `wasip2` crate (the `wasi` crate's successor) and nothing of push-host: it
//! would run unchanged under `wasmtime serve` or Spin. Its page names its
//! stylesheet and script in `link: <...>; rel=preload` headers; push-host
//! pushes each same-origin one (running the component again for it) when
//! the client accepts pushes, and leaves the headers for the browser to
//! preload otherwise. The font on another origin is never pushed.
//!
//! Routes: `/` (the page), `/style.css`, `/app.js`; anything else is 404.
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p wasi-http-page`,
//! then `push-host --module target/wasm32-wasip2/release/wasi_http_page.wasm`.

use std::io::Write as _;

use wasip2::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// The page: its stylesheet colours the heading; its script adds a line.
pub const PAGE: &str = "<!doctype html>\n<html><head><title>wasi:http page</title>\
<link rel=\"stylesheet\" href=\"/style.css\"><script src=\"/app.js\" defer></script></head>\
<body><h1>A wasi:http component, pushed</h1></body></html>\n";
/// The stylesheet.
pub const STYLE: &str = "h1 { color: rebeccapurple; }\n";
/// The script.
pub const SCRIPT: &str = "document.body.insertAdjacentHTML('beforeend', '<p id=\"ran\">app.js ran</p>');\n";

struct Page;

impl wasip2::exports::http::incoming_handler::Guest for Page {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        // ANCHOR: links
        let (status, kind, body, links): (u16, &str, &str, &[&str]) = match path.as_str() {
            "/" | "/index.html" => (
                200,
                "text/html; charset=utf-8",
                PAGE,
                &[
                    "</style.css>; rel=preload; as=style",
                    "</app.js>; rel=preload; as=script",
                    "<https://fonts.example.net/face.woff2>; rel=preload; as=font; crossorigin",
                ],
            ),
            "/style.css" => (200, "text/css", STYLE, &[]),
            "/app.js" => (200, "text/javascript", SCRIPT, &[]),
            _ => (404, "text/plain", "not found\n", &[]),
        };
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("content-type".into(), kind.into()),
            ("content-length".into(), body.len().to_string().into()),
        ];
        headers.extend(links.iter().map(|l| ("link".to_string(), l.as_bytes().to_vec())));
        // ANCHOR_END: links
        let headers = Fields::from_list(&headers).expect("valid headers");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(status).expect("valid status");
        let outgoing = response.body().expect("body taken once");
        ResponseOutparam::set(out, Ok(response));
        let mut stream = outgoing.write().expect("stream taken once");
        stream.write_all(body.as_bytes()).expect("body written");
        stream.flush().expect("body flushed");
        drop(stream);
        OutgoingBody::finish(outgoing, None).expect("body finished");
    }
}

wasip2::http::proxy::export!(Page);
