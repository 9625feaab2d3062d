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
//! Layout: `mod.rs` the API ([`Client`], [`run`], [`Outcome`]); `sim.rs`
//! the simulated request the [`Caller`](crate::Caller) methods reach.

pub(crate) mod sim;

use crate::{Error, Handler, PushPromise, Request, Response};

/// The authority a request gets when it has none (what `push-host call`
/// sends); promises need one.
pub const AUTHORITY: &str = "localhost";

/// The simulated client, and push-host's limits for the request.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) push: bool,
    pub(crate) refuse: Vec<String>,
    pub(crate) max_concurrent_pushes: usize,
    pub(crate) max_pushes: u32,
    pub(crate) has: Vec<String>,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// Push on, no refusals, 100 concurrent pushed streams (a browser's
    /// SETTINGS), push-host's default of 32 promises per request.
    pub fn new() -> Client {
        Client {
            push: true,
            refuse: Vec::new(),
            max_concurrent_pushes: 100,
            max_pushes: 32,
            has: Vec::new(),
        }
    }

    /// Whether the client takes pushes (SETTINGS_ENABLE_PUSH).
    pub fn push(mut self, on: bool) -> Client {
        self.push = on;
        self
    }

    /// The client resets the promise of `path` as it arrives: `push`
    /// answers [`Error::Refused`] and [`Promised::is_refused`](crate::Promised::is_refused)
    /// is `true`.
    pub fn refuse(mut self, path: impl Into<String>) -> Client {
        self.refuse.push(path.into());
        self
    }

    /// The client's limit of pushed streams open at once (promised and
    /// not yet pushed).
    pub fn max_concurrent_pushes(mut self, max: usize) -> Client {
        self.max_concurrent_pushes = max;
        self
    }

    /// push-host's `--max-pushes` (promises per request).
    pub fn max_pushes(mut self, max: u32) -> Client {
        self.max_pushes = max;
        self
    }

    /// The client already has `path` on this connection (pushed or
    /// requested before): promising it answers [`Error::Refused`], as
    /// push-host's push diary does. A `GET` or `HEAD` request's own path counts too.
    pub fn already_has(mut self, path: impl Into<String>) -> Client {
        self.has.push(path.into());
        self
    }
}

/// One call the handler made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `promise`, of this request.
    Promise(PushPromise),
    /// `respond`, with this status.
    Respond(u16),
    /// `push` on the promise of this path, with this status.
    Push(String, u16),
}

impl Call {
    /// `promise PATH`, `respond STATUS`, `push PATH STATUS`.
    pub fn describe(&self) -> String {
        match self {
            Call::Promise(p) => format!("promise {}", p.path()),
            Call::Respond(status) => format!("respond {status}"),
            Call::Push(path, status) => format!("push {path} {status}"),
        }
    }
}

/// What the handler did for one request.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every call, in order, with the answer it got.
    pub calls: Vec<(Call, Result<(), Error>)>,
    /// The promises sent, in order.
    pub promises: Vec<PushPromise>,
    /// The main response, if one was sent.
    pub response: Option<Response>,
    /// The pushed responses, by promised path, in the order pushed.
    pub pushes: Vec<(String, Response)>,
    /// Paths promised while push was off: announced as early hints (a
    /// `103` and `link` headers) by push-host.
    pub hints: Vec<String>,
}

impl Outcome {
    /// The promised paths, in order.
    pub fn promised(&self) -> Vec<&str> {
        self.promises.iter().map(PushPromise::path).collect()
    }

    /// Each failed call (as [`Call::describe`] says it) with its error.
    pub fn errors(&self) -> Vec<(String, Error)> {
        self.calls
            .iter()
            .filter_map(|(call, result)| result.clone().err().map(|e| (call.describe(), e)))
            .collect()
    }
}

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
