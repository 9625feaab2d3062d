//! Standard `wasi:http` components, served through `wasmtime-wasi-http`.
//!
//! Shared by every version of the standard (on top):
//! - `outbound.rs`: outgoing requests denied unless the tenant allows the
//!   destination (the `wasi:http` hooks).
//! - `preload.rs`: `link: rel=preload` headers parsed into pushes.
//! - `body.rs`: the request as the guest reads it, a call's timing, and a
//!   response body that fails at once when the call does.
//! - `deliver.rs`: a guest's response sent: the main one streamed (its
//!   preload links promised first), a pushed one read whole.
//!
//! - `serve.rs`: a request served: the guest's response streamed to the
//!   client, then its preload links pushed from fresh instances.
//!
//! One folder per version of the standard, each one call's exchange:
//! - `p2/`: the `wasi:http/proxy@0.2` world (`incoming-handler`, `proxy.rs`).
//! - `p3/`: the `wasi:http/service@0.3` world (`handler`, component-model
//!   async, `service.rs`).

pub mod body;
pub mod deliver;
pub mod outbound;
pub(crate) mod p2;
pub(crate) mod p3;
pub mod preload;
pub mod serve;
