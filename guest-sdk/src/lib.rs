//! Guest SDK for `push-host`: write HTTP/2 request handlers, with server push,
//! as WebAssembly components.
//!
//! A handler is a `cdylib` crate built for `wasm32-wasip2`. It implements
//! [`Handler`] and registers it with [`export!`]; the host calls
//! [`Handler::handle`] once per request with the buffered [`Request`] and a
//! [`Caller`] through which the handler sends [`PushPromise`]s, the main
//! [`Response`] and the promised responses. The host checks every call and
//! answers with a typed [`Error`] (push disabled by the client, promised stream
//! refused, malformed header, response already sent, ...), so handlers decide
//! what to do about each failure.
//!
//! The SDK wraps the bindings that `wit-bindgen` generates from the WIT
//! contract `wit/push.wit` (package `push:handler@0.1.0`, world `service`):
//! handler crates depend on `push-guest` only, never on `wit-bindgen`.
//!
//! # Example
//!
//! Promise a resource, send the main response, then push the promised
//! resource (`serde_json` is used for the JSON values):
//!
//! ```no_run
//! use push_guest::{Caller, Handler, PushPromise, Request, Response};
//! use serde_json::json;
//!
//! struct Service;
//!
//! impl Handler for Service {
//!     fn handle(request: Request, caller: &Caller) {
//!         let style = caller.promise(PushPromise::get("/style.css"));
//!         if let Err(err) = &style {
//!             eprintln!("no push for {}: {err}", request.path());
//!         }
//!
//!         let page = json!({"page": request.path_only(), "pushed": style.is_ok()});
//!         if let Err(err) = caller.respond(Response::json(&page)) {
//!             eprintln!("Error occurred while sending the response: {err}");
//!         }
//!
//!         if let Ok(style) = style {
//!             let css = Response::text("body { margin: 0 }\n").with_content_type("text/css");
//!             caller.push(style, css).ok();
//!         }
//!     }
//! }
//!
//! push_guest::export!(Service);
//! # fn main() {}
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`: the output
//! `.wasm` is already a component that `push-host --module` can run. Anything
//! the handler writes to stdout or stderr goes to the host (`push-host` logs
//! it); a panic aborts the handler (a trap) and the host handles the failed
//! request.
//!
//! # Layout
//!
//! - [`Handler`] and [`export!`] (`export.rs`): the entry point of a handler.
//! - [`Request`] (`request.rs`): method, scheme, authority, path and query,
//!   headers and body, with text and JSON helpers.
//! - [`Response`] (`response.rs`): status, headers and body, with JSON, text and
//!   binary constructors.
//! - [`PushPromise`] and [`Promised`] (`promise.rs`): what to promise, and a
//!   promise that was sent and awaits its [`Caller::push`].
//! - [`Caller`] (`caller.rs`): `promise`, `respond`, `push`.
//! - [`Error`] (`error.rs`): the WIT `error` variant as a Rust error type.
//! - [`p3`] (`p3/`, feature `p3`): push from a standard `wasi:http@0.3`
//!   handler (`push:handler@0.2.0`), with `spin-sdk` 7
//!   (`p3::Pusher::for_http`) or the `wasip3` crate
//!   (`p3::Pusher::for_request`).
//!
//! - [`testing`] (feature `testing`, not on `wasm32`): run a handler
//!   natively in `cargo test` against a simulated client, under the rules
//!   push-host applies (the `push-rules` crate).
//!
//! On targets other than `wasm32` the crate still compiles (so handler crates
//! can be checked, linted and unit-tested natively, and their logic can be
//! exercised on [`Request`] and [`Response`] values), but every call that
//! reaches the host, i.e. the [`Caller`] methods and [`Promised::path`],
//! panics.

#![warn(missing_docs)]
// Under `testing` (natively) the calls reach the simulation instead of the
// host, and the conversions to and from the bindings go unused.
#![cfg_attr(
    all(feature = "testing", not(target_arch = "wasm32")),
    allow(dead_code, unused_imports)
)]

mod caller;
mod error;
mod export;
mod headers;
#[cfg(feature = "p3")]
pub mod p3;
mod promise;
mod request;
mod response;
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
mod sim;
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub mod testing;

#[doc(hidden)]
pub use export::__private;

pub use caller::Caller;
pub use error::Error;
pub use headers::Header;
pub use promise::{Promised, PushPromise};
pub use request::Request;
pub use response::Response;

/// A request handler: the code a component runs for every request.
///
/// Implement it on a type (usually a unit struct) and register that type with
/// [`export!`]. The host calls `handle` once per request; when it returns, the
/// request is over as far as the handler is concerned, and the host deals with
/// whatever was left undone (no response sent, promises never pushed). Whether
/// statics survive from one request to the next is the host's choice (it may
/// use a fresh instance per request): do not rely on either.
pub trait Handler {
    /// Handles one request. Send the response with [`Caller::respond`] and any
    /// pushes with [`Caller::promise`] and [`Caller::push`].
    fn handle(request: Request, caller: &Caller);
}
