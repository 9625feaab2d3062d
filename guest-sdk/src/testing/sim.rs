//! The simulated request the [`Caller`](crate::Caller) methods reach under
//! `push_guest::testing`: the rules are `push-rules`' (as the host's), the
//! connection's part (push diary, stream limit, resets) is simulated the
//! way push-host answers it.

use std::cell::RefCell;

use push_rules::calls::{self, CallError, Parent};
use push_rules::fields::Origin;

use super::{Call, Client, Outcome};
use crate::{Error, PushPromise, Request, Response};

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
