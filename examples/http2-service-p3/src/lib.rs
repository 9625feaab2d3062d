//! The HTTP/2 server push seed (Ballerina's `http_2.0_service.bal`) as a
//! standard `wasi:http/service@0.3` handler, written with the `wasip3`
//! crate: it promises `/resource1..3`, pushes each as
//! `{"push":{"name":"resourceN"}}` (push-host sends them after the main
//! response's head), and returns `{"response":{"name":"main resource"}}`.
//! Failures are logged to stderr as the original logs them.
//!
//! On another 0.3 host (`wasmtime serve -S p3`) the same component serves
//! the main response; only the pushes need push-host.

// ANCHOR: handler
use push_guest::p3::Pusher;
use serde_json::json;
use wasip3::http::types::{ErrorCode, Request, Response};

/// The resources promised and pushed, in order.
const RESOURCES: [&str; 3] = ["resource1", "resource2", "resource3"];

struct Http2Service;

wasip3::http::service::export!(Http2Service);

impl wasip3::exports::http::handler::Guest for Http2Service {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let pusher = Pusher::for_request(&request);
        // Send a push promise for each resource.
        let promises: Vec<_> = RESOURCES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let promise = match &pusher {
                    Ok(pusher) => pusher.promise(&format!("/{name}")),
                    Err(e) => Err(e.clone()),
                };
                if let Err(err) = &promise {
                    eprintln!("Error occurred while sending the promise{}: {err}", i + 1);
                }
                promise
            })
            .collect();

        // Push each promised resource (it follows the main response).
        for (i, (name, promise)) in RESOURCES.iter().zip(promises).enumerate() {
            let Ok(promised) = promise else { continue };
            if let Err(err) = promised.push(json_response(json!({"push": {"name": name}}))) {
                eprintln!("Error occurred while sending the promised response{}: {err}", i + 1);
            }
        }

        // Send the requested resource.
        wasip3::http_compat::http_into_wasi_response(json_response(json!({"response": {"name": "main resource"}})))
    }
}

/// A `200` JSON response (with its length, so its last DATA frame ends
/// the stream, as the 0.1 seed's does).
fn json_response(value: serde_json::Value) -> http::Response<String> {
    let body = value.to_string();
    http::Response::builder()
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(body)
        .expect("a valid response")
}
// ANCHOR_END: handler
