//! What push-host allows a handler to send, in one place: the host
//! applies these rules to every `promise`, `respond` and `push` a guest
//! makes, and `push_guest::testing` applies the same ones to a handler run
//! natively, so a handler tested with it meets no other rule when served.
//!
//! - [`fields`]: one message's rules — header fields (lowercase names, no
//!   pseudo-headers or connection-specific fields), status 200–599 with a
//!   matching `content-length`, promised requests (`GET`/`HEAD`, a path on
//!   the parent request's origin, no body).
//! - [`calls`]: the order of calls for one request — what `promise`,
//!   `respond` and `push` answer given what was sent before, and the
//!   limits' messages ([`calls::CallError`] is the WIT `error` variant).
//!
//! What depends on the connection (the client's resets, its push diary, an
//! h2 stream gone) is the host's; `push_guest::testing` simulates it.
//! No dependency on wasmtime, h2 or tokio: it builds for `wasm32` too.

#![warn(missing_docs)]

pub mod calls;
pub mod fields;
