//! `push-host`: an HTTP/2 server whose request handlers are WebAssembly
//! components that can use server push.
//!
//! Each request gets a fresh, sandboxed instance of the tenant's component
//! (pooling allocator, pre-instantiated once), which answers through the
//! `push:handler/caller` interface of `wit/push.wit`: `promise` sends a
//! PUSH_PROMISE, `respond` the main response, `push` a promised response.
//!
//! Layout:
//! - [`config`]: the limits and their defaults.
//! - [`handler`]: the [`Handler`] trait the server runs per request, and
//!   admission (instance slots, queue timeout).
//! - [`runtime`]: the wasm [`Handler`]: engine, component loading and checks,
//!   one `Store` per request, deadlines (epoch interruption), trap
//!   classification.
//! - [`tenants`]: many components on one host (`--config`): the hosting
//!   file, routing, one shared sandbox.
//! - [`native`]: the seed service compiled in (`--native-seed`), for
//!   benchmarks only.
//! - [`server`]: the listener: accept (TLS first with [`tls`]), the
//!   connection cap, graceful shutdown.
//! - `connection`: one HTTP/2 connection: `h2` settings, handshake
//!   deadline, idle timeout, keepalive PINGs, GOAWAY.
//! - `request`: one request stream: body, handler, error responses;
//!   [`responder`]: where the response goes (an `h2` stream or HTTP/1.1).
//! - [`tls`]: certificate and key loading, ALPN.
//! - `http1`: HTTP/1.1 through hyper (no push: promised paths become
//!   `link` headers).
//! - [`caller`]: the host side of the `caller` interface (the generated
//!   traits on the request's store data, [`state`]); [`caller_state`]: its
//!   `promise`, `respond` and `push`, with every check `h2` does not do
//!   (origin, parent stream state, client stream limit); [`promised`]: the
//!   `promised` resource.
//! - [`validate`]: header, status, method and path checks.
//! - [`body`]: sending bodies under flow control.
//! - [`conn`]: per-connection state shared with requests; [`diary`], the
//!   paths a connection's client already has (not pushed again).
//! - [`metrics`], [`admin`]: Prometheus metrics, what one request did
//!   ([`metrics::Report`], for its log line and the metrics), and the
//!   `--admin-listen` endpoints (`/metrics`, `/healthz`, `/readyz`).
//! - [`hints`]: `103 Early Hints` for promises when the client disables push.
//! - [`coalesce`]: buffered writes below the tap, flushed once per turn of
//!   the scheduler, so a request's frames share a `writev`.
//! - [`sniff`]: a byte tap below `h2`: names client resets, orders promises
//!   across parents, holds back resets `h2` would mishandle.
//! - [`state`], [`stdio`]: the store's data and the guest's log streams;
//!   [`budget`]: memory budgets shared by instances; [`cache`]: the
//!   on-disk compile cache.
//! - `generated`: the `bindgen!` output, re-exported explicitly.
//! - [`logfmt`]: the log's text format (the default layout, cheaper per line).

#![warn(missing_docs)]

pub mod admin;
pub mod body;
pub mod budget;
pub mod cache;
pub mod caller;
pub mod caller_state;
pub mod coalesce;
pub mod config;
pub mod conn;
mod connection;
pub mod diary;
mod generated;
pub mod handler;
pub mod hints;
mod http1;
pub mod logfmt;
pub mod metrics;
pub mod native;
pub mod outbound;
pub mod preload;
pub mod promised;
pub mod proxy;
mod request;
mod request_body;
pub mod responder;
pub mod runtime;
pub mod server;
pub mod sniff;
pub mod state;
pub mod stdio;
pub mod tenants;
pub mod tls;
pub mod validate;

pub use config::Limits;
pub use generated::WitRequest;
pub use handler::Handler;
pub use native::NativeSeed;
pub use runtime::{LoadError, Pool, Runtime, Sandbox};
pub use server::{ServeOptions, Stopped, serve};
pub use tenants::Hosting;
