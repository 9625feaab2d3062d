//! `push-host`: an HTTP/2 server whose request handlers are WebAssembly
//! components that can use server push.
//!
//! Each request gets a fresh, sandboxed instance of the tenant's component
//! (pooling allocator, pre-instantiated once), which answers through the
//! `push:handler/caller` interface of `wit/push.wit`: `promise` sends a
//! PUSH_PROMISE, `respond` the main response, `push` a promised response.
//!
//! Layout, one folder per concern, from the bottom layer up (a module
//! imports only from the layers below it, and from its own folder):
//! - [`config`]: the limits, their defaults and a tenant's grants.
//! - [`ops`]: Prometheus metrics, what one request did
//!   ([`ops::metrics::Report`], for its log line and the metrics), the
//!   `--admin-listen` endpoints, the log's text format.
//! - [`http2`]: the HTTP/2 plumbing under the handler API: per-connection
//!   state, the byte tap below `h2` (client resets, promise ordering), the
//!   coalescing write buffer, the push diary, bodies under flow control,
//!   `103 Early Hints`, header and path rules.
//! - [`push`]: the push API's semantics for one request (`promise`,
//!   `respond`, `push` and every check `h2` does not do), the `promised`
//!   resource, 0.2.0's `pusher`, and the `bindgen!` output of
//!   `wit/push.wit`.
//! - [`handler`]: the [`Handler`] trait the server runs per request, and
//!   admission (instance slots, queue timeout).
//! - [`runtime`]: the wasm [`Handler`]: engine, component loading and
//!   checks, one `Store` per request, deadlines (epoch interruption), trap
//!   classification, the store's data, memory budgets, the compile cache;
//!   `runtime::wasi_http` serves standard `wasi:http` components (0.2 and
//!   0.3, and 0.3's push), one folder per version of the standard.
//! - [`native`]: the seed service compiled in (`--native-seed`), for
//!   benchmarks only.
//! - [`tenants`]: many components on one host (`--config`): the hosting
//!   file, routing, reloads, one shared sandbox.
//! - [`server`]: the listener: accept (TLS first), the connection cap,
//!   graceful shutdown; one HTTP/2 connection, one request stream, HTTP/1.1
//!   through hyper.
//! - [`author`]: the handler author's tools: `push-host call` (one request
//!   through the sandbox on an in-memory connection) and `push-host new`
//!   (project templates).

#![warn(missing_docs)]

pub mod author;
pub mod config;
pub mod handler;
pub mod http2;
pub mod native;
pub mod ops;
pub mod push;
pub mod runtime;
pub mod server;
pub mod tenants;

pub use config::Limits;
pub use handler::Handler;
pub use native::NativeSeed;
pub use push::generated::WitRequest;
pub use runtime::{LoadError, Pool, Runtime, Sandbox};
pub use server::{ServeOptions, Stopped, serve};
pub use tenants::Hosting;
