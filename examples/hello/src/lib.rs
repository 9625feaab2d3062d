//! The smallest `push-host` handler: answers every request with a line of text.
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p hello`, then run
//! `push-host --module target/wasm32-wasip2/release/hello.wasm`.

use push_guest::{Caller, Handler, Request, Response};

struct Hello;

impl Handler for Hello {
    fn handle(_request: Request, caller: &Caller) {
        if let Err(err) = caller.respond(Response::text("Hello from push-host!\n")) {
            eprintln!("Error occurred while sending the response: {err}");
        }
    }
}

push_guest::export!(Hello);
