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

// ANCHOR: tests
#[cfg(test)]
mod tests {
    use push_guest::testing::{self, Client};
    use push_guest::{Error, Request};

    fn seed_request() -> Request {
        Request::new("GET", "/http2Service")
    }

    #[test]
    fn promises_responds_then_pushes_each_resource() {
        let out = testing::run::<super::Http2Service>(seed_request(), &Client::new());
        assert_eq!(out.promised(), ["/resource1", "/resource2", "/resource3"]);
        let main = out.response.as_ref().expect("a response");
        assert_eq!(main.body(), br#"{"response":{"name":"main resource"}}"#);
        let pushed: Vec<&str> = out.pushes.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(pushed, ["/resource1", "/resource2", "/resource3"]);
        assert_eq!(out.pushes[1].1.body(), br#"{"push":{"name":"resource2"}}"#);
        assert!(out.errors().is_empty());
    }

    #[test]
    fn a_refused_promise_is_not_pushed_and_the_rest_are() {
        let out = testing::run::<super::Http2Service>(seed_request(), &Client::new().refuse("/resource2"));
        assert_eq!(out.errors(), [("push /resource2 200".to_string(), Error::Refused)]);
        assert_eq!(out.pushes.len(), 2);
    }

    #[test]
    fn without_push_only_the_main_response_is_sent() {
        let out = testing::run::<super::Http2Service>(seed_request(), &Client::new().push(false));
        assert_eq!(out.errors().len(), 3);
        assert!(out.errors().iter().all(|(_, e)| *e == Error::PushDisabled));
        assert!(out.response.is_some() && out.pushes.is_empty());
        // push-host announces them as early hints instead.
        assert_eq!(out.hints, ["/resource1", "/resource2", "/resource3"]);
    }

    #[test]
    fn past_the_client_s_stream_limit_the_last_promise_fails() {
        let out = testing::run::<super::Http2Service>(seed_request(), &Client::new().max_concurrent_pushes(2));
        assert_eq!(out.promised(), ["/resource1", "/resource2"]);
        assert!(matches!(&out.errors()[0], (call, Error::LimitExceeded(_)) if call == "promise /resource3"));
    }
}
// ANCHOR_END: tests
