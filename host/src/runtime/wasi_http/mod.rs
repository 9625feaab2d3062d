//! Standard `wasi:http` components, served through `wasmtime-wasi-http`.
//!
//! Shared by every version of the standard (on top):
//! - `outbound.rs`: outgoing requests denied unless the tenant allows the
//!   destination (the `wasi:http` hooks).
//! - `preload.rs`: `link: rel=preload` headers parsed into pushes.
//!
//! One folder per version of the standard:
//! - `p2/`: the `wasi:http/proxy@0.2` world (`incoming-handler`): the
//!   guest's response streamed to the client, then its preload links pushed
//!   from fresh instances (`proxy.rs`).

pub mod outbound;
pub(crate) mod p2;
pub mod preload;
