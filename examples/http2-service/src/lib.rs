//! The HTTP/2 server push example, ported from Ballerina's
//! `http_2.0_service.bal` (`service /http2Service`, default resource).
//!
//! For every request (whatever its path) the handler promises `GET /resource1`,
//! `/resource2` and `/resource3`, sends the main response
//! `{"response":{"name":"main resource"}}`, then pushes each promised resource
//! as `{"push":{"name":"resourceN"}}`. Every failure is logged to stderr the
//! way the original logs it; a resource whose promise failed is not pushed.
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p http2-service`,
//! then run `push-host --module target/wasm32-wasip2/release/http2_service.wasm`.

// ANCHOR: handler
use push_guest::{Caller, Handler, PushPromise, Request, Response};
use serde_json::json;

/// The resources promised and pushed, in order.
const RESOURCES: [&str; 3] = ["resource1", "resource2", "resource3"];

struct Http2Service;

impl Handler for Http2Service {
    fn handle(_request: Request, caller: &Caller) {
        // Send a push promise for each resource.
        let promises: Vec<_> = RESOURCES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let promise = caller.promise(PushPromise::get(format!("/{name}")));
                if let Err(err) = &promise {
                    eprintln!("Error occurred while sending the promise{}: {err}", i + 1);
                }
                promise
            })
            .collect();

        // Send the requested resource.
        let main = Response::json(&json!({"response": {"name": "main resource"}}));
        if let Err(err) = caller.respond(main) {
            eprintln!("Error occurred while sending the response: {err}");
        }

        // Push each promised resource.
        for (i, (name, promise)) in RESOURCES.iter().zip(promises).enumerate() {
            let Ok(promised) = promise else { continue };
            let push = Response::json(&json!({"push": {"name": name}}));
            if let Err(err) = caller.push(promised, push) {
                eprintln!("Error occurred while sending the promised response{}: {err}", i + 1);
            }
        }
    }
}

push_guest::export!(Http2Service);
// ANCHOR_END: handler
