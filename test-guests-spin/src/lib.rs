//! A `wasi:http/service@0.3` component written as any Spin SDK 7 user
//! writes one (`#[http_service]`, crates.io `spin-sdk`, no push-host API),
//! for push-host's tests that such components are served unchanged:
//!
//! - `/` : a page whose `link: <...>; rel=preload` headers name `/style.css`
//!   and `/app.js` (pushed by push-host), and those assets.
//! - `/echo`: the request as the component saw it (method, path, the
//!   request body's length).
//! - `/stream?chunks=N&size=S`: a body written chunk by chunk from a task
//!   the handler spawns.
//! - `/trap`: a panic.

use futures::SinkExt as _;
use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_service;

#[http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    match path.as_str() {
        "/" => http::Response::builder()
            .status(200)
            .header("content-type", "text/html")
            .header("link", "</style.css>; rel=preload; as=style")
            .header("link", "</app.js>; rel=preload; as=script")
            .body(
                "<!doctype html><link rel=stylesheet href=/style.css><script src=/app.js></script>spin page\n"
                    .to_string(),
            )
            .into_response(),
        "/style.css" => http::Response::builder()
            .header("content-type", "text/css")
            .body("body { color: teal }\n".to_string())
            .into_response(),
        "/app.js" => http::Response::builder()
            .header("content-type", "text/javascript")
            .body("console.log('spin');\n".to_string())
            .into_response(),
        "/echo" => {
            let method = request.method().to_string();
            let body = request.into_body().bytes().await.map(|b| b.len());
            let text = match body {
                Ok(n) => format!("{method} {path} body={n}\n"),
                Err(e) => format!("{method} {path} body error {e:?}\n"),
            };
            http::Response::builder().body(text).into_response()
        }
        "/stream" => {
            let chunks: usize = param(&query, "chunks").unwrap_or(3);
            let size: usize = param(&query, "size").unwrap_or(10);
            let (mut tx, body) = spin_sdk::http::body::stream::<Vec<u8>>();
            spin_sdk::wasip3::spawn(async move {
                for i in 0..chunks {
                    let byte = b'a' + (i % 26) as u8;
                    if tx.send(vec![byte; size]).await.is_err() {
                        break;
                    }
                }
            });
            http::Response::builder().body(body).into_response()
        }
        "/trap" => panic!("spin guest asked to trap"),
        _ => http::Response::builder()
            .status(404)
            .body("not found\n".to_string())
            .into_response(),
    }
}

fn param(query: &str, key: &str) -> Option<usize> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.parse().ok()).flatten()
    })
}
