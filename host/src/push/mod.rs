//! The push API's semantics, whoever calls it (a `push:handler` guest, a
//! `wasi:http` guest's preload links, the native seed):
//!
//! - `caller_state.rs`: [`caller_state::CallerState`], one request's
//!   `promise`, `respond` and `push`, with every check `h2` does not do
//!   (origin, method, the parent stream's state, the client's stream limit,
//!   the per-request push limit).
//! - `promised.rs`: the `promised` resource (a promised stream not yet
//!   answered; dropped unanswered, it is reset with CANCEL).
//! - `pusher.rs`: the resources of `push:handler/push@0.2.0` (a
//!   `wasi:http@0.3` guest's push, bound to one request) and what a 0.3
//!   store keeps of its requests (`P3Request`); the bindings are
//!   `runtime::wasi_http::p3`'s.
//! - `generated.rs`: `bindgen!` for `wit/push.wit` (0.1.0), and nothing
//!   else; the rest of the host uses its re-exports.

pub mod caller_state;
pub(crate) mod generated;
pub mod promised;
pub mod pusher;
