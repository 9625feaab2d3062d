//! The simulated client and request the [`Caller`](crate::Caller) methods
//! reach under `push_guest::testing` (whose API re-exports [`Client`],
//! [`Call`] and [`Outcome`] from here): the rules are `push-rules`' (as the host's), the
//! connection's part (push diary, stream limit, resets) is simulated the
//! way push-host answers it.

use std::cell::RefCell;

use push_rules::calls::{self, CallError, Parent};
use push_rules::fields::Origin;

use crate::{Error, PushPromise, Request, Response};

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

/// One request being handled.
struct Sim {
    client: Client,
    origin: Origin,
    head: bool,
    outcome: Outcome,
    responded: bool,
    /// Promises counted against `--max-pushes` (early hints too).
    promised: u32,
    /// Promised streams not yet pushed (the client's concurrent streams).
    open: Vec<u32>,
    /// Paths the client has: requested or promised on the connection.
    diary: Vec<String>,
    /// Promise id to (path, HEAD).
    streams: Vec<(u32, String, bool)>,
}

thread_local! {
    static SIM: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

fn with<T>(f: impl FnOnce(&mut Sim) -> T) -> T {
    SIM.with(|sim| {
        let mut sim = sim.borrow_mut();
        let sim = sim
            .as_mut()
            .expect("push_guest::Caller used outside push_guest::testing::run (natively, only a test can call it)");
        f(sim)
    })
}

pub(crate) fn start(request: &Request, client: &Client) {
    let mut diary = client.has.clone();
    // A GET or HEAD request's own path: the client has it.
    if matches!(request.method(), "GET" | "HEAD") {
        diary.push(request.path().to_string());
    }
    let sim = Sim {
        client: client.clone(),
        origin: Origin::new(request.scheme(), request.authority()),
        head: request.method() == "HEAD",
        outcome: Outcome::default(),
        responded: false,
        promised: 0,
        open: Vec::new(),
        diary,
        streams: Vec::new(),
    };
    SIM.with(|s| *s.borrow_mut() = Some(sim));
}

pub(crate) fn finish() -> Outcome {
    SIM.with(|s| s.borrow_mut().take())
        .map(|sim| sim.outcome)
        .unwrap_or_default()
}

fn record(sim: &mut Sim, call: Call, result: Result<(), Error>) {
    sim.outcome.calls.push((call, result));
}

/// `promise`: the promise's id and path.
pub(crate) fn promise(p: PushPromise) -> Result<(u32, String), Error> {
    with(|sim| {
        let result = promise_in(sim, &p);
        record(
            sim,
            Call::Promise(p.clone()),
            result.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        if result.is_ok() {
            sim.outcome.promises.push(p.clone());
        }
        result.map(|id| (id, p.path().to_string()))
    })
}

fn promise_in(sim: &mut Sim, p: &PushPromise) -> Result<u32, Error> {
    let parent = Parent {
        responded: sim.responded,
        body_open: false,
        promised: sim.promised,
        max_pushes: sim.client.max_pushes,
        push_enabled: sim.client.push,
    };
    match calls::promise(&parent, &sim.origin, p.method(), p.path(), p.headers(), || Ok(())) {
        Ok(_) => {}
        Err(CallError::PushDisabled) => {
            // push-host announces it as an early hint instead.
            if !sim.outcome.hints.iter().any(|h| h == p.path()) {
                sim.promised += 1;
                sim.outcome.hints.push(p.path().to_string());
            }
            return Err(Error::PushDisabled);
        }
        Err(e) => return Err(e.into()),
    }
    // The push diary: what the client has is not pushed again.
    if sim.diary.iter().any(|d| d == p.path()) {
        return Err(Error::Refused);
    }
    sim.diary.push(p.path().to_string());
    if sim.open.len() >= sim.client.max_concurrent_pushes {
        return Err(calls::stream_limit(sim.client.max_concurrent_pushes).into());
    }
    sim.promised += 1;
    let id = sim.streams.len() as u32 + 1;
    sim.open.push(id);
    sim.streams.push((id, p.path().to_string(), p.method() == "HEAD"));
    Ok(id)
}

pub(crate) fn respond(r: Response) -> Result<(), Error> {
    with(|sim| {
        let call = Call::Respond(r.status());
        let result = calls::respond(sim.responded, r.status(), r.headers(), r.body().len())
            .map(|_| ())
            .map_err(Error::from);
        if result.is_ok() {
            sim.responded = true;
            let r = if sim.head { r.with_body(Vec::new()) } else { r };
            sim.outcome.response = Some(r);
        }
        record(sim, call, result.clone());
        result
    })
}

/// `push` on promise `id` (consumed, whatever the answer).
pub(crate) fn push(id: u32, r: Response) -> Result<(), Error> {
    with(|sim| {
        let (path, head) = sim
            .streams
            .iter()
            .find(|(i, ..)| *i == id)
            .map(|(_, path, head)| (path.clone(), *head))
            .expect("a promise of this request");
        sim.open.retain(|open| *open != id);
        let call = Call::Push(path.clone(), r.status());
        let result = match calls::push(r.status(), r.headers(), r.body().len()) {
            Err(e) => Err(Error::from(e)),
            Ok(_) if sim.client.refuse.contains(&path) => Err(Error::Refused),
            Ok(_) => Ok(()),
        };
        if result.is_ok() {
            let r = if head { r.with_body(Vec::new()) } else { r };
            sim.outcome.pushes.push((path, r));
        }
        record(sim, call, result.clone());
        result
    })
}

/// Whether the client refuses promise `id`'s path.
pub(crate) fn is_refused(path: &str) -> bool {
    with(|sim| sim.client.refuse.iter().any(|p| p == path))
}

/// Promise `id` dropped unanswered: push-host cancels its stream.
pub(crate) fn dropped(id: u32) {
    SIM.with(|sim| {
        if let Some(sim) = sim.borrow_mut().as_mut() {
            sim.open.retain(|open| *open != id);
        }
    });
}
