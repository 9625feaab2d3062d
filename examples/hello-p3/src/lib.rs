//! The smallest standard `wasi:http/service@0.3` handler, built with the
//! newest `wasip3` crate (0.10, whose imports are `wasi:*@0.3.2`: push-host
//! implements 0.3.0 and links them by semver): answers every request with a
//! line of text. The 0.3 row of `bench/run`'s hello comparison.
//!
//! Build: `cargo build --release --target wasm32-wasip2 -p hello-p3`, then
//! run `push-host --module target/wasm32-wasip2/release/hello_p3.wasm`.

use wasip3::http::types::{ErrorCode, Request, Response};

struct Hello;

wasip3::http::service::export!(Hello);

impl wasip3::exports::http::handler::Guest for Hello {
    async fn handle(_request: Request) -> Result<Response, ErrorCode> {
        wasip3::http_compat::http_into_wasi_response(http::Response::new("Hello from push-host!\n".to_string()))
    }
}
