//! The push API's semantics, whoever calls it (a `push:handler` guest, a
//! `wasi:http` guest's preload links, the native seed):
//!
//! - `caller_state.rs`: [`caller_state::CallerState`], one request's
//!   `promise`, `respond` and `push`, with every check `h2` does not do
//!   (origin, method, the parent stream's state, the client's stream limit,
//!   the per-request push limit).
//! - `promised.rs`: the `promised` resource (a promised stream not yet
//!   answered; dropped unanswered, it is reset with CANCEL).
//! - `generated.rs`: `bindgen!` for `wit/push.wit`, and nothing else; the
//!   rest of the host uses its re-exports.

pub mod caller_state;
pub(crate) mod generated;
pub mod promised;
