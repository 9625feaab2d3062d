//! The smallest standard `wasi:http/proxy@0.2` handler, built with the
//! `wasip2` crate: answers every request with a line of text. The same
//! component runs under `wasmtime serve`, which is what `bench/run`
//! measures push-host against with it (fresh instances and reused ones).
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p hello-p2`, then
//! run `push-host --module target/wasm32-wasip2/release/hello_p2.wasm`.

use wasip2::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

const BODY: &[u8] = b"Hello from push-host!\n";

struct Hello;

impl wasip2::exports::http::incoming_handler::Guest for Hello {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let headers = Fields::from_list(&[
            ("content-type".into(), b"text/plain".to_vec()),
            ("content-length".into(), BODY.len().to_string().into_bytes()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("body taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("stream taken once");
        stream.blocking_write_and_flush(BODY).expect("body written");
        drop(stream);
        OutgoingBody::finish(body, None).expect("body finished");
    }
}

wasip2::http::proxy::export!(Hello);
