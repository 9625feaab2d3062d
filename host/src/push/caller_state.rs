//! What the `caller` interface knows about the request being served
//! ([`CallerState`]), and its `promise`, `respond` and `push` with every
//! check `h2` does not do (origin, parent stream state, client stream
//! limit), before anything reaches the wire. `caller.rs` binds them to the
//! WIT interface.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::watch;

use crate::config::Limits;
use crate::http2::body;
use crate::http2::conn::ConnShared;
use crate::http2::hints;
use crate::http2::request_body::StreamedBody;
use crate::http2::responder::Responder;
use crate::http2::validate;
use crate::ops::metrics::Report;
use crate::push::generated::{WitError, WitPushPromise, WitResponse};
use crate::push::promised::{PromisedStream, reset_now};
use push_rules::calls::{self, CallError};

/// What the `caller` interface needs to know about the request being served.
pub struct CallerState {
    respond: Option<Responder>,
    responded: bool,
    head: bool,
    scheme: String,
    authority: String,
    /// `scheme` and `authority` parsed, at the first promise.
    origin: std::cell::OnceCell<validate::Origin>,
    promised: u32,
    max_pushes: u32,
    conn: Arc<ConnShared>,
    tag: Arc<str>,
    /// Set to `true` once the main body is sent (or dropped with the store):
    /// pushed bodies wait for it. Made at the first promise, so a request
    /// that promises nothing does not pay for the channel.
    main_sent: Option<watch::Sender<bool>>,
    /// The main body is sent (what a channel made from now on starts with).
    main_done: bool,
    /// Announce promises as early hints when the client disables push.
    early_hints: bool,
    /// Paths promised while push is off, for the 103 and `link` headers.
    hints: Vec<String>,
    /// Where the response handle waits while a burst of promises is
    /// pending, on an h2 connection whose client has push off (see
    /// [`hints::EarlyHints`]); `None` otherwise (the 103 then goes out with
    /// the response).
    early: Option<Arc<hints::EarlyHints>>,
    /// Whether a promised (authority, path) is this handler's to push (the
    /// tenant's own routes); `None`: every same-authority path is.
    owns: Option<PromiseScope>,
    /// What the request did, for its log line and the metrics.
    pub(crate) report: Report,
    /// The request body, when it is streamed to the guest (not yet read).
    body_stream: Option<StreamedBody>,
    /// Set while the main response's body streams after its headers went
    /// out through [`Self::send_head`]: promises are still allowed. Cleared
    /// (by the body's sender) just before END_STREAM is queued.
    body_open: Arc<AtomicBool>,
}

/// Where a main response's body goes once [`CallerState::send_head`] sent its head.
pub enum HeadSent {
    /// The h2 stream (`None`: the head ended the stream).
    H2(Option<h2::SendStream<Bytes>>),
    /// The HTTP/1.1 reply: head and body go together.
    Http1(
        tokio::sync::oneshot::Sender<http::Response<crate::http2::responder::ReplyBody>>,
        http::Response<()>,
    ),
}

/// Decides whether a promised (authority, path) routes to the promising tenant.
pub type PromiseScope = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

impl CallerState {
    /// State for a request whose response goes out through `respond`.
    pub fn new(
        respond: Responder,
        request: &http::request::Parts,
        conn: Arc<ConnShared>,
        limits: &Limits,
        tag: Arc<str>,
    ) -> Self {
        let early = (limits.early_hints && matches!(respond, Responder::H2(_)) && !conn.push_enabled())
            .then(|| hints::EarlyHints::new(tag.clone()));
        CallerState {
            respond: Some(respond),
            responded: false,
            head: request.method == http::Method::HEAD,
            scheme: request.uri.scheme_str().unwrap_or("http").to_string(),
            authority: validate::authority_of(request).unwrap_or_default(),
            origin: std::cell::OnceCell::new(),
            promised: 0,
            max_pushes: limits.max_pushes,
            conn,
            tag,
            main_sent: None,
            main_done: false,
            early_hints: limits.early_hints,
            hints: Vec::new(),
            early,
            owns: None,
            report: Report::default(),
            body_stream: None,
            body_open: Arc::default(),
        }
    }

    /// State with no request behind it (start-up checks): every call fails.
    pub fn detached() -> Self {
        /// Never written through: every call of a detached caller fails
        /// before it reaches the connection.
        static DETACHED: std::sync::LazyLock<Arc<ConnShared>> =
            std::sync::LazyLock::new(|| ConnShared::new(0, std::net::SocketAddr::from(([0, 0, 0, 0], 0)), 0));
        CallerState {
            respond: None,
            responded: true,
            head: false,
            scheme: String::new(),
            authority: String::new(),
            origin: std::cell::OnceCell::new(),
            promised: 0,
            max_pushes: 0,
            conn: DETACHED.clone(),
            tag: "start-up".into(),
            main_sent: None,
            main_done: true,
            early_hints: false,
            hints: Vec::new(),
            early: None,
            owns: None,
            report: Report::default(),
            body_stream: None,
            body_open: Arc::default(),
        }
    }

    /// Limits promises to paths `scope` accepts (a tenant's own routes).
    pub fn restrict_promises(&mut self, scope: PromiseScope) {
        self.owns = Some(scope);
    }

    /// The rules' checks of a promise (`push_rules::calls::promise`), with
    /// the tenant scope; `push_enabled`: the client takes pushes.
    fn check_promise(&self, p: &WitPushPromise, push_enabled: bool) -> Result<http::Request<()>, CallError> {
        let origin = self
            .origin
            .get_or_init(|| validate::Origin::new(&self.scheme, &self.authority));
        let parent = calls::Parent {
            responded: self.responded,
            body_open: self.body_open.load(Ordering::Acquire),
            promised: self.promised,
            max_pushes: self.max_pushes,
            push_enabled,
        };
        calls::promise(&parent, origin, &p.method, &p.path, &p.headers, || match &self.owns {
            Some(owns) if !owns(&self.authority, &p.path) => Err(format!(
                "{} routes to another tenant: a tenant may promise only its own paths (RFC 9113 section 10.4)",
                p.path
            )),
            _ => Ok(()),
        })
    }

    /// A promise made while the client has push off: with early hints on,
    /// its path is announced (a `103` and a `link` header) instead.
    fn hint(&mut self, p: WitPushPromise) {
        if self.early_hints && !self.hints.contains(&p.path) {
            self.promised += 1;
            self.hints.push(p.path.clone());
            // The 103 waits for the end of the burst: the handle is
            // parked where the request's task can send it.
            if let Some(early) = &self.early
                && let Some(Responder::H2(send)) = self.respond.take()
            {
                early.park(send, p.path);
            }
        }
    }

    /// `promise`: checks it and sends the PUSH_PROMISE (or, with push off,
    /// records it as an early hint).
    pub async fn promise_stream(&mut self, p: WitPushPromise) -> Result<PromisedStream, WitError> {
        let c = self;
        c.unpark(false);
        if c.responded && !c.body_open.load(Ordering::Acquire) {
            return Err(WitError::Closed);
        }
        match c.respond.as_mut() {
            None => return Err(WitError::Closed),
            // Once the head is sent (a 0.3 guest promising while its body
            // streams) h2 forbids `poll_reset` on the response handle; a
            // reset stream then fails `push_request` below instead.
            Some(Responder::H2(send)) if !c.responded => {
                if let Some(why) = reset_now(|cx| send.poll_reset(cx)) {
                    tracing::info!("{}: promise {}: request stream is gone: {why}", c.tag, p.path);
                    return Err(WitError::Closed);
                }
            }
            Some(Responder::H2(_)) => {}
            // HTTP/1.1 cannot push: the path becomes a `link` header.
            Some(Responder::Http1(_)) => {
                match c.check_promise(&p, false) {
                    Err(CallError::PushDisabled) => {}
                    Err(e) => return Err(e.into()),
                    Ok(_) => unreachable!("push is off on HTTP/1.1"),
                }
                if !c.hints.contains(&p.path) {
                    c.promised += 1;
                    c.hints.push(p.path);
                }
                return Err(WitError::PushDisabled);
            }
        }
        let request = match c.check_promise(&p, c.conn.push_enabled()) {
            Ok(r) => r,
            Err(CallError::PushDisabled) => {
                c.hint(p);
                return Err(WitError::PushDisabled);
            }
            Err(e) => return Err(e.into()),
        };
        if !c.conn.diary_insert(&c.authority, &p.path) {
            tracing::info!(
                "{}: promise {} refused: already pushed or requested on this connection",
                c.tag,
                p.path
            );
            c.report.refused += 1;
            return Err(WitError::Refused);
        }
        let Some(Responder::H2(send)) = c.respond.as_mut() else {
            return Err(WitError::Closed);
        };
        let conn = c.conn.clone();
        let parent = send.stream_id().as_u32();
        let mut last = conn.last_promise().lock().await;
        if last.parent != parent && last.parent != 0 && !conn.wait_promise_written(last.promised).await {
            tracing::info!("{}: promise {}: the connection stopped writing", c.tag, p.path);
            return Err(WitError::Closed);
        }
        let slot = match conn.try_reserve_push() {
            Ok(slot) => slot,
            Err(max) => return Err(calls::stream_limit(max).into()),
        };
        // The main body may have ended while this promise waited above: a
        // PUSH_PROMISE after the parent's END_STREAM breaks the connection.
        if c.responded && !c.body_open.load(Ordering::Acquire) {
            return Err(WitError::Closed);
        }
        let pushed = match send.push_request(request) {
            Ok(pushed) => pushed,
            Err(e) => {
                tracing::info!("{}: promise {} failed: {e}", c.tag, p.path);
                return Err(WitError::Closed);
            }
        };
        let promised = pushed.stream_id().as_u32();
        conn.set_newest_promise(&mut last, parent, promised);
        drop(last);
        c.promised += 1;
        c.report.promised += 1;
        conn.note_promised(promised, &p.path);
        conn.push_promised(promised);
        tracing::debug!("{}: promised {} on stream {promised}", c.tag, p.path);
        let stream = PromisedStream {
            path: p.path,
            head: p.method == "HEAD",
            send: Some(pushed),
            slot: Some(slot),
            tag: c.tag.clone(),
            main_sent: c.main_sent_rx(),
            conn,
        };
        Ok(stream)
    }

    /// `respond`: checks `r` and sends it as the main response.
    pub fn respond(&mut self, r: WitResponse) -> Result<(), WitError> {
        let c = self;
        c.unpark(true);
        let mut head = calls::respond(c.responded, r.status, &r.headers, r.body.len())?;
        let mut send = match c.respond.take() {
            None => return Err(WitError::Closed),
            Some(Responder::H2(send)) => send,
            Some(Responder::Http1(reply)) => {
                c.responded = true;
                c.report.status = Some(r.status);
                for path in &c.hints {
                    if let Some(link) = hints::link(path) {
                        head.headers_mut().append(http::header::LINK, link);
                    }
                }
                let body = if c.head { Bytes::new() } else { Bytes::from(r.body) };
                let (head, ()) = head.into_parts();
                if reply
                    .send(http::Response::from_parts(head, crate::http2::responder::full(body)))
                    .is_err()
                {
                    return Err(WitError::Closed);
                }
                c.main_body_sent();
                return Ok(());
            }
        };
        c.responded = true;
        c.report.status = Some(r.status);
        if !c.hints.is_empty() {
            // With `early`, the 103s went out as the bursts ended (the last
            // one just now, when it was unparked).
            if c.early.is_none() {
                hints::send_early(&mut send, &c.hints, &c.tag);
            }
            hints::add_links(&mut head, &c.hints);
        }
        let body = if c.head { Bytes::new() } else { Bytes::from(r.body) };
        let mut stream = match send.send_response(head, body.is_empty()) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::info!("{}: respond failed: {e}", c.tag);
                return Err(WitError::Closed);
            }
        };
        if body.len() <= body::INLINE_MAX {
            if !body.is_empty()
                && let Err(e) = body::send_inline(&mut stream, body)
            {
                tracing::info!("{}: response body not delivered: {e}", c.tag);
            }
            c.main_body_sent();
        } else {
            // The promised streams (made before, as no promise follows a
            // response) wait for the body task.
            let main_sent = c.main_sent.take();
            let tag = c.tag.clone();
            body::spawn_send(stream, body, None, move |result| {
                if let Some(tx) = main_sent {
                    let _ = tx.send(true);
                }
                if let Err(e) = result {
                    tracing::info!("{tag}: response body not delivered: {e}");
                }
            });
        }
        Ok(())
    }

    /// The handle the request's task uses to send a burst's 103 when the
    /// guest yields (`None`: no 103 before the response).
    pub fn early_hints(&self) -> Option<Arc<hints::EarlyHints>> {
        self.early.clone()
    }

    /// Takes a parked response handle back (see [`hints::EarlyHints`]);
    /// with `flush`, the pending burst's 103 is sent first.
    fn unpark(&mut self, flush: bool) {
        if let Some(early) = &self.early
            && self.respond.is_none()
        {
            let send = if flush { early.take_flushed() } else { early.take() };
            self.respond = send.map(Responder::H2);
        }
    }

    /// Takes the response handle for a main response the host streams
    /// itself (a `wasi:http` guest's): the request counts as answered with
    /// `status`. `None` if it was answered already.
    pub fn take_for_stream(&mut self, status: u16) -> Option<Responder> {
        self.unpark(true);
        if self.responded {
            return None;
        }
        let respond = self.respond.take()?;
        self.responded = true;
        self.report.status = Some(status);
        Some(respond)
    }

    /// Sends the head of a main response the host streams itself (a
    /// standard guest's), with the 103 and `link` headers of paths promised
    /// while push was off. On h2 the response handle stays here, so the
    /// guest may go on promising while the body streams, until the body's
    /// sender clears [`Self::body_open`]. `Err`: answered already, or h2
    /// refused the head.
    pub fn send_head(&mut self, mut head: http::Response<()>, end: bool) -> Result<HeadSent, String> {
        self.unpark(true);
        if self.responded {
            return Err("the response was already sent".into());
        }
        let status = head.status().as_u16();
        if !self.hints.is_empty() {
            hints::add_links(&mut head, &self.hints);
        }
        match self.respond.take() {
            None => Err("the stream is closed".into()),
            Some(Responder::Http1(reply)) => {
                self.responded = true;
                self.report.status = Some(status);
                Ok(HeadSent::Http1(reply, head))
            }
            Some(Responder::H2(mut send)) => {
                self.responded = true;
                self.report.status = Some(status);
                if !self.hints.is_empty() && self.early.is_none() {
                    hints::send_early(&mut send, &self.hints, &self.tag);
                }
                self.body_open.store(!end, Ordering::Release);
                let sent = send.send_response(head, end);
                self.respond = Some(Responder::H2(send));
                // Pushed responses (a 0.2 guest's) follow the main head,
                // and stream beside its body.
                self.main_done = true;
                if let Some(tx) = self.main_sent.take() {
                    let _ = tx.send(true);
                }
                match sent {
                    Ok(stream) => Ok(HeadSent::H2((!end).then_some(stream))),
                    Err(e) => {
                        self.body_open.store(false, Ordering::Release);
                        Err(format!("h2 refused the response: {e}"))
                    }
                }
            }
        }
    }

    /// The flag [`Self::send_head`] set, for the body's sender to clear
    /// before END_STREAM.
    pub fn body_open(&self) -> Arc<AtomicBool> {
        self.body_open.clone()
    }

    /// Gives the request body to the guest as it arrives (see
    /// [`Self::take_body_stream`]).
    pub(crate) fn set_body_stream(&mut self, body: StreamedBody) {
        self.body_stream = Some(body);
    }

    /// The request body still to be read, when it is streamed.
    pub(crate) fn take_body_stream(&mut self) -> Option<StreamedBody> {
        self.body_stream.take()
    }

    /// Marks the main body as sent: pushed bodies may follow.
    pub fn main_body_sent(&mut self) {
        self.body_open.store(false, Ordering::Release);
        self.main_done = true;
        if let Some(tx) = self.main_sent.take() {
            let _ = tx.send(true);
        }
    }

    /// A promised stream's view of [`Self::main_body_sent`].
    fn main_sent_rx(&mut self) -> watch::Receiver<bool> {
        if let Some(tx) = &self.main_sent {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(self.main_done);
        if !self.main_done {
            self.main_sent = Some(tx);
        }
        rx
    }

    /// Whether a promise now would be a PUSH_PROMISE (an h2 request whose
    /// client accepts pushes, not yet answered).
    pub fn can_push(&self) -> bool {
        !self.responded && matches!(self.respond, Some(Responder::H2(_))) && self.conn.push_enabled()
    }

    /// Whether the request is a HEAD (its responses carry no body).
    pub fn is_head(&self) -> bool {
        self.head
    }

    /// The request's scheme and authority (a promise's origin).
    pub fn origin(&self) -> (&str, &str) {
        (&self.scheme, &self.authority)
    }

    /// Whether the guest has sent its main response.
    pub fn responded(&self) -> bool {
        self.responded
    }

    /// The unused response handle, if the guest never responded.
    pub fn take_unanswered(&mut self) -> Option<Responder> {
        self.body_open.store(false, Ordering::Release);
        self.unpark(false);
        if self.responded { None } else { self.respond.take() }
    }

    /// The unused response handle (as [`Self::take_unanswered`]) and the
    /// request's report.
    pub fn finish(&mut self) -> (Option<Responder>, Report) {
        self.report.hinted = self.hints.len() as u32;
        (self.take_unanswered(), std::mem::take(&mut self.report))
    }
}

impl PromisedStream {
    /// `push`: sends `r` on the promised stream (uncounted).
    pub fn push(mut self, r: WitResponse) -> Result<(), WitError> {
        let p = &mut self;
        let head = calls::push(r.status, &r.headers, r.body.len())?;
        let mut send = p.send.take().expect("a promised stream is pushed once");
        let slot = p.slot.take();
        let id = send.stream_id().as_u32();
        if p.conn.begin_push(id).is_err() {
            tracing::info!("{}: push {} refused: stream reset by the client", p.tag, p.path);
            return Err(WitError::Refused);
        }
        if let Some(why) = reset_now(|cx| send.poll_reset(cx)) {
            p.conn.end_push(id);
            tracing::info!("{}: push {} refused: stream {why}", p.tag, p.path);
            return Err(WitError::Refused);
        }
        let body = if p.head { Bytes::new() } else { Bytes::from(r.body) };
        // Small bodies go to h2 at once when the main body already has (it
        // goes out first); the push slot then stays taken until the tap sees
        // the stream end on the wire.
        let inline = body.len() <= body::INLINE_MAX && *p.main_sent.borrow();
        let mut slot = slot;
        if inline && let Some(slot) = slot.take() {
            slot.release_when_ended(id);
        }
        let mut stream = match send.send_response(head, body.is_empty()) {
            Ok(stream) => stream,
            Err(e) => {
                p.conn.end_push(id);
                p.conn.on_push_ended(id);
                let (what, error) = if e.is_reset() {
                    ("refused", WitError::Refused)
                } else {
                    ("failed", WitError::Closed)
                };
                tracing::info!("{}: push {} {what}: {e}", p.tag, p.path);
                return Err(error);
            }
        };
        if inline {
            if !body.is_empty()
                && let Err(e) = body::send_inline(&mut stream, body)
            {
                p.conn.on_push_ended(id);
                tracing::info!("{}: pushed {} not delivered: {e}", p.tag, p.path);
            }
            return Ok(());
        }
        let (tag, path) = (p.tag.clone(), std::mem::take(&mut p.path));
        body::spawn_send(stream, body, Some(p.main_sent.clone()), move |result| {
            drop(slot);
            if let Err(e) = result {
                tracing::info!("{tag}: pushed {path} not delivered: {e}");
            }
        });
        Ok(())
    }
}
