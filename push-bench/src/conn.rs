//! Connections and stream slots: the hot path.
//!
//! [`connect`] opens one h2c connection (big windows, room for the pushes)
//! and spawns its driver; a [`Link`] is one of the run's connections, made
//! anew when the server closes it. [`run_slot`] is one stream slot: a task
//! that sends a GET, drives the [`Exchange`] (the response, its push
//! promises and the pushed responses, all read to the end) and loops until
//! the window closes. A request the server never processed (GOAWAY below
//! its stream, REFUSED_STREAM, or never sent) is sent again on a new
//! connection (RFC 9113 §8.7) and counted as retried, not as an error.
//!
//! The exchange is one hand-written poll over every part of a request, so a
//! request costs no task and no allocation beyond what `h2` makes; it also
//! works around hyperium/h2#811 (a pending `poll_push_promise` is not woken
//! when the parent's END_STREAM arrives on a DATA frame): whenever the main
//! body ends, the promises are polled afresh in the same pass, which then
//! sees the closed stream and yields `None`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::RecvStream;
use h2::client::{PushPromises, PushedResponseFuture, ResponseFuture, SendRequest};
use http::{Request, Response, Uri};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::stats::{Admit, SlotStats, Window};
use crate::validate::{BodyCache, BodyCheck, BodyStore, ErrorKind, Failure, check_push_count, check_status};

/// Per-stream receive window we advertise.
const STREAM_WINDOW: u32 = 1 << 20;
/// Connection receive window we advertise.
const CONNECTION_WINDOW: u32 = 16 << 20;

/// What every slot shares.
#[derive(Debug)]
pub struct Shared {
    pub window: Window,
    /// Signalled by the completion that closes a `-n` window.
    pub closed: Notify,
    pub bodies: BodyStore,
    pub url: Uri,
    /// The request path (and query), the key of the main body.
    pub path: String,
    pub pushes: usize,
    /// Paces request starts when `--rate` is given.
    pub pacer: Option<Pacer>,
}

/// Hands out evenly spaced start times for `--rate`.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: std::sync::Mutex<Instant>,
}

impl Pacer {
    /// A pacer for `rate` requests per second, starting now.
    pub fn new(rate: f64) -> Self {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's start time. A pacer that fell behind (the
    /// server was slower than the rate) does not burst to catch up.
    pub async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().unwrap();
            let now = Instant::now();
            if *next < now {
                *next = now;
            }
            let at = *next;
            *next += self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnParams {
    pub streams: usize,
    pub pushes: usize,
    pub push: bool,
}

/// Opens an h2c (prior knowledge) connection and spawns its driver.
pub async fn connect(url: &Uri, params: ConnParams) -> Result<SendRequest<Bytes>, Failure> {
    let host = url.host().unwrap_or_default();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = url.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| Failure::new(ErrorKind::Connection, format!("connect {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    // Pushed streams count against our SETTINGS_MAX_CONCURRENT_STREAMS.
    let push_streams = params.streams.saturating_mul(params.pushes.max(1)).saturating_mul(2);
    let max_streams = u32::try_from(push_streams.max(256)).unwrap_or(u32::MAX);
    let (send, conn) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_concurrent_streams(max_streams)
        .initial_max_send_streams(params.streams)
        .enable_push(params.push)
        .handshake::<_, Bytes>(tcp)
        .await
        .map_err(|e| Failure::h2("handshake", &e))?;
    // The slots see the connection's failure on their streams and count it.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// One of the run's connections, shared by its stream slots, and made anew
/// (once, by the first slot to ask) when the server has closed it.
pub struct Link {
    url: Uri,
    params: ConnParams,
    current: tokio::sync::Mutex<(u64, SendRequest<Bytes>)>,
}

impl Link {
    pub fn new(url: Uri, params: ConnParams, send: SendRequest<Bytes>) -> Arc<Link> {
        Arc::new(Link {
            url,
            params,
            current: tokio::sync::Mutex::new((0, send)),
        })
    }

    /// The connection now, and its generation.
    async fn current(&self) -> (u64, SendRequest<Bytes>) {
        let current = self.current.lock().await;
        (current.0, current.1.clone())
    }

    /// A new connection in place of generation `seen` (unless another slot
    /// already made one), and the connection now.
    async fn renew(&self, seen: u64) -> Result<(u64, SendRequest<Bytes>), Failure> {
        let mut current = self.current.lock().await;
        if current.0 == seen {
            current.1 = connect(&self.url, self.params).await?;
            current.0 += 1;
        }
        Ok((current.0, current.1.clone()))
    }
}

/// Times one request is sent again after the server did not process it.
const MAX_RETRIES: u32 = 8;

/// One stream slot: requests back to back until the window closes.
pub async fn run_slot(link: Arc<Link>, shared: Arc<Shared>) -> SlotStats {
    let mut stats = SlotStats::new();
    let mut cache = BodyCache::default();
    let mut pushes: Vec<PushLeg> = Vec::with_capacity(shared.pushes + 1);
    let (mut generation, mut send) = link.current().await;
    let mut retries = 0;
    while shared.window.open(Instant::now()) {
        if retries == 0
            && let Some(pacer) = &shared.pacer
        {
            pacer.wait().await;
        }
        let sent = Instant::now();
        let result = match poll_fn(|cx| send.poll_ready(cx)).await {
            Err(e) => Err(Failure::h2("connection", &e).unsent()),
            Ok(()) => {
                let mut request = Request::new(());
                *request.uri_mut() = shared.url.clone();
                match send.send_request(request, true) {
                    Ok((mut response, _)) => {
                        let mut exchange = Exchange {
                            promises: Some(response.push_promises()),
                            main: Leg::new(response),
                            pushes: &mut pushes,
                            count: 0,
                            failure: None,
                        };
                        let result = poll_fn(|cx| exchange.poll(cx, &mut cache, &shared)).await;
                        pushes.clear();
                        result
                    }
                    Err(e) => Err(Failure::h2("send request", &e).unsent()),
                }
            }
        };
        if let Err(failure) = &result
            && failure.unprocessed
            && retries < MAX_RETRIES
        {
            retries += 1;
            stats.retried += 1;
            match link.renew(generation).await {
                Ok((g, s)) => (generation, send) = (g, s),
                Err(failure) => {
                    stats.error(failure);
                    break;
                }
            }
            continue;
        }
        retries = 0;
        let done = Instant::now();
        let admit = shared.window.admit(done);
        if admit == (Admit::Counted { last: true }) {
            shared.closed.notify_one();
        }
        match result {
            Ok(count) => {
                if let Admit::Counted { .. } = admit {
                    stats.success(done - sent, count);
                }
            }
            Err(failure) => {
                let fatal = failure.kind == ErrorKind::Connection;
                stats.error(failure);
                if fatal {
                    break;
                }
            }
        }
    }
    stats
}

/// One response (main or pushed): headers, then the body to the end.
struct Leg<F> {
    head: Option<F>,
    body: Option<RecvStream>,
    check: BodyCheck,
    /// A non-2xx status: the body is still read (so the stream ends and
    /// its window is released), but not checked.
    bad_status: Option<Failure>,
    done: bool,
}

impl<F> Leg<F>
where
    F: Future<Output = Result<Response<RecvStream>, h2::Error>> + Unpin,
{
    fn new(head: F) -> Leg<F> {
        Leg {
            head: Some(head),
            body: None,
            check: BodyCheck::default(),
            bad_status: None,
            done: false,
        }
    }

    /// `Ok(None)`: ended well; `Ok(Some(_))`: ended, but invalid (status or
    /// body); `Err(_)`: reset or connection error.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        path: &str,
        cache: &mut BodyCache,
        store: &BodyStore,
    ) -> Poll<Result<Option<Failure>, Failure>> {
        if let Some(head) = &mut self.head {
            let response = ready!(Pin::new(head).poll(cx)).map_err(|e| Failure::h2(path, &e))?;
            self.head = None;
            let (parts, body) = response.into_parts();
            match check_status(parts.status, path) {
                Ok(()) => self.check.start(cache.expected(store, path)),
                Err(failure) => self.bad_status = Some(failure),
            }
            self.body = Some(body);
        }
        let Some(body) = &mut self.body else {
            return Poll::Ready(Ok(None));
        };
        while let Some(chunk) = ready!(body.poll_data(cx)) {
            let chunk = chunk.map_err(|e| Failure::h2(path, &e))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            if self.bad_status.is_none() {
                self.check.chunk(&chunk);
            }
        }
        self.body = None;
        self.done = true;
        if let Some(failure) = self.bad_status.take() {
            return Poll::Ready(Ok(Some(failure)));
        }
        Poll::Ready(Ok(cache.settle(store, path, self.check.finish()).err()))
    }
}

/// A promised response and the promised request's URI.
struct PushLeg {
    uri: Uri,
    leg: Leg<PushedResponseFuture>,
}

fn path_of(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |p| p.as_str())
}

/// Everything one request waits for.
struct Exchange<'a> {
    main: Leg<ResponseFuture>,
    /// `None` once exhausted.
    promises: Option<PushPromises>,
    pushes: &'a mut Vec<PushLeg>,
    count: usize,
    /// The first validation failure (the exchange is still read to the end).
    failure: Option<Failure>,
}

impl Exchange<'_> {
    /// Ready with the number of pushes once the response and every pushed
    /// response have ended.
    fn poll(&mut self, cx: &mut Context<'_>, cache: &mut BodyCache, shared: &Shared) -> Poll<Result<usize, Failure>> {
        loop {
            if let Some(promises) = &mut self.promises {
                loop {
                    match promises.poll_push_promise(cx) {
                        Poll::Ready(Some(Ok(promise))) => {
                            self.count += 1;
                            let (request, response) = promise.into_parts();
                            let (parts, ()) = request.into_parts();
                            self.pushes.push(PushLeg {
                                uri: parts.uri,
                                leg: Leg::new(response),
                            });
                        }
                        Poll::Ready(Some(Err(e))) => {
                            // Before the response's head, a GOAWAY error here
                            // is the request's own: its stream was above the
                            // last-stream-id (not processed, `Failure::h2`).
                            let failure = Failure::h2("push promise", &e);
                            let failure = if self.main.head.is_some() {
                                failure
                            } else {
                                failure.processed()
                            };
                            return Poll::Ready(Err(failure));
                        }
                        Poll::Ready(None) => {
                            self.promises = None;
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
            }
            let mut again = false;
            if !self.main.done
                && let Poll::Ready(r) = self.main.poll(cx, &shared.path, cache, &shared.bodies)
            {
                self.note(r?);
                // h2#811: poll the promises afresh now that the body ended.
                again = self.promises.is_some();
            }
            for push in self.pushes.iter_mut().filter(|p| !p.leg.done) {
                if let Poll::Ready(r) = push.leg.poll(cx, path_of(&push.uri), cache, &shared.bodies)
                    && let Some(failure) = r.map_err(Failure::processed)?
                {
                    self.failure.get_or_insert(failure);
                }
            }
            if self.main.done && self.promises.is_none() && self.pushes.iter().all(|p| p.leg.done) {
                return Poll::Ready(match self.failure.take() {
                    Some(failure) => Err(failure),
                    None => check_push_count(self.count, shared.pushes).map(|()| self.count),
                });
            }
            if !again {
                return Poll::Pending;
            }
        }
    }

    fn note(&mut self, failure: Option<Failure>) {
        if let Some(failure) = failure {
            self.failure.get_or_insert(failure);
        }
    }
}
