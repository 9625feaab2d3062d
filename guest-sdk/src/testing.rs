//! Run a [`Handler`] natively, in `cargo test`, against a simulated client
//! (feature `testing`; not on `wasm32`).
//!
//! [`run`] calls the handler once with a [`Request`] and a [`Client`] (push
//! on or off, promises it refuses, its concurrent-stream limit, paths it
//! already has) and returns an [`Outcome`]: every call the handler made, in
//! order, with the answer it got — the promises, the response, each push,
//! each error. The answers come from the rules push-host itself applies
//! (the `push-rules` crate: header fields, statuses, methods and paths,
//! the origin, the per-request promise limit, the order of calls), so a
//! handler tested here meets the same ones when served; what depends on a
//! connection (resets, the push diary, the stream limit) is simulated as
//! push-host answers it.
//!
//! ```
//! use push_guest::testing::{self, Client};
//! use push_guest::{Caller, Handler, PushPromise, Request, Response};
//!
//! struct Page;
//!
//! impl Handler for Page {
//!     fn handle(_request: Request, caller: &Caller) {
//!         let style = caller.promise(PushPromise::get("/style.css"));
//!         caller.respond(Response::text("<h1>hi</h1>")).ok();
//!         if let Ok(style) = style {
//!             caller.push(style, Response::text("h1 {}")).ok();
//!         }
//!     }
//! }
//!
//! let out = testing::run::<Page>(Request::new("GET", "/"), &Client::new());
//! assert_eq!(out.promised(), ["/style.css"]);
//! assert_eq!(out.response.unwrap().body(), b"<h1>hi</h1>");
//! assert_eq!(out.pushes[0].0, "/style.css");
//!
//! // A client with push off: the promise fails, the page is still sent.
//! let out = testing::run::<Page>(Request::new("GET", "/"), &Client::new().push(false));
//! assert_eq!(out.errors(), [("promise /style.css".to_string(), push_guest::Error::PushDisabled)]);
//! assert!(out.pushes.is_empty() && out.response.is_some());
//! ```
//!
//! The simulated client and request live in `sim.rs`, below
//! [`Caller`](crate::Caller), whose methods reach it; this module is the
//! API on top.

pub use crate::sim::{Call, Client, Outcome};
use crate::{Handler, Request, sim};

/// The authority a request gets when it has none (what `push-host call`
/// sends); promises need one.
pub const AUTHORITY: &str = "localhost";

/// Runs `H` for `request` against `client`; a request with no authority
/// gets [`AUTHORITY`]. A panic in the handler (a trap once compiled)
/// propagates.
pub fn run<H: Handler>(request: Request, client: &Client) -> Outcome {
    let request = if request.authority().is_empty() {
        request.with_authority(AUTHORITY)
    } else {
        request
    };
    sim::start(&request, client);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        H::handle(request, &crate::Caller::new());
    }));
    let outcome = sim::finish();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    outcome
}
