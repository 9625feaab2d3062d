//! `push-client`: an HTTP/2 client that consumes server push.
//!
//! Submit a request, walk the push promises as they arrive, reject the ones
//! you do not want (the server is sent `RST_STREAM(CANCEL)` and stops sending
//! them), then read the main response and the promised responses. Built on
//! [`h2`] and tokio; speaks HTTP/2 over cleartext TCP with prior knowledge
//! (h2c, `http://` URLs).
//!
//! The client checks what RFC 9113 §8.4 asks of it: a promise for another
//! authority or scheme, or for an unsafe method, is refused with
//! `RST_STREAM(PROTOCOL_ERROR)` and reported through
//! [`ResponseHandle::refused_promises`] instead of being delivered. Each
//! report's [`RefusedPromise::reason`] is the error code that really went
//! out on the wire; [`PushPromise::reject_and_confirm`] reports a rejection
//! the same way.
//!
//! # Example
//!
//! The client half of the seed (Ballerina's HTTP/2 server push example):
//!
//! ```no_run
//! use push_client::{Client, Request};
//!
//! # async fn run() -> Result<(), push_client::Error> {
//! let client = Client::connect("http://localhost:7090").await?;
//! let mut handle = client.submit(Request::get("/http2Service")).await?;
//!
//! let mut promises = Vec::new();
//! while handle.has_promise().await {
//!     let promise = handle.next_promise().await.expect("has_promise said so");
//!     println!("Received a promise for {}", promise.path());
//!     if promise.path() == "/resource2" {
//!         handle.reject(promise);
//!         println!("Push promise for /resource2 rejected");
//!     } else {
//!         promises.push(promise);
//!     }
//! }
//!
//! let response = handle.response().await?;
//! let payload: serde_json::Value = response.json()?;
//! println!("Response : {payload}");
//!
//! for promise in promises {
//!     let pushed = handle.promised_response(promise).await?;
//!     println!("Promised resource : {}", pushed.text()?);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`Client`] / [`ClientBuilder`] (`connection.rs`): a connection to one
//!   origin (a new one when the server goes away); [`Client::submit`]
//!   sends a [`Request`] (`request.rs`).
//! - [`ResponseHandle`] (`handle.rs`): a submitted request's promises and
//!   response; [`Response`] (`response.rs`): a complete response with
//!   [`text`](Response::text), [`json`](Response::json) and
//!   [`bytes`](Response::bytes).
//! - `link.rs`: the client's connection, opened with the builder's
//!   settings and replaced when the server goes away.
//! - `origin.rs`: the scheme, host and port a client connects to.
//! - `retry.rs`: a request sent again on a new connection when the server
//!   did not process it (`GOAWAY` below its stream, `REFUSED_STREAM`, never
//!   sent; RFC 9113 §8.7), as a server draining for a restart asks.
//! - [`PushPromise`], [`RefusedPromise`], [`Refusal`] (`promise.rs`): the
//!   promises and the §8.4 checks.
//! - `driver.rs`: the background task reading each response and its
//!   promises together (works around hyperium/h2#811).
//! - `wire.rs`: a tap below `h2` that sends refusals as `PROTOCOL_ERROR`
//!   (h2 alone can only send `CANCEL` for a pushed stream), notices the
//!   promises h2 refuses by itself and records the code of every
//!   `RST_STREAM` written.
//! - [`Error`] (`error.rs`): typed errors with messages a person can act on.
//!
//! The `cli` feature (on by default) builds the `push-client` binary.

#![warn(missing_docs)]

mod connection;
mod driver;
mod error;
mod handle;
mod link;
mod origin;
mod promise;
mod request;
mod response;
mod retry;
mod tls;
mod wire;

pub use connection::{Client, ClientBuilder};
pub use error::{Error, Reason};
pub use handle::ResponseHandle;
pub use promise::{PushPromise, Refusal, RefusedPromise};
pub use request::Request;
pub use response::Response;

/// Re-export of the `http` crate, whose types appear in this API.
pub use http;
