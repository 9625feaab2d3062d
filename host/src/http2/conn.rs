//! State one HTTP/2 connection shares with the requests running on it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::http2::diary::PushDiary;

/// Per-connection facts the handlers need: the client's stream limit and how
/// many pushed streams are open.
#[derive(Debug)]
pub struct ConnShared {
    /// Connection number, for logs.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's SETTINGS_MAX_CONCURRENT_STREAMS, as last seen by the connection task.
    max_send_streams: AtomicUsize,
    /// The client's SETTINGS_ENABLE_PUSH, as last read from its SETTINGS
    /// frames by the byte tap (`true` until a client says otherwise).
    push_enabled: AtomicBool,
    /// Client resets the byte tap held back (see [`crate::http2::sniff::Tapped`]).
    held_resets: AtomicU64,
    /// Promised streams not yet finished (promised, being pushed).
    open_pushes: AtomicUsize,
    /// Pushed streams whose whole response is queued in `h2`; each still
    /// counts in `open_pushes` until the byte tap sees its END_STREAM (or a
    /// reset) go by.
    answered: Mutex<HashSet<u32>>,
    /// The most recent promised stream ids and their paths, to name resets.
    recent_pushes: Mutex<VecDeque<(u32, String)>>,
    /// The highest promised stream id whose PUSH_PROMISE reached the socket.
    promises_written: watch::Sender<u32>,
    /// The last promise made on this connection; held while promising.
    last_promise: tokio::sync::Mutex<LastPromise>,
    /// The same, as `parent << 32 | promised`, readable from the IO tap.
    newest_promise: AtomicU64,
    /// Promised streams not yet answered, and the read task to wake when a
    /// held reset may go on (see [`crate::http2::sniff::Tapped`]).
    pushes: Mutex<PushStates>,
    /// What the client already has: not pushed again (`None`: diary off).
    diary: Option<Mutex<PushDiary>>,
    /// Requests whose handler has not finished.
    active: AtomicUsize,
    /// When the connection last went from busy to no request running.
    idle_since: Mutex<Instant>,
}

/// A request counted as running on its connection until dropped.
#[derive(Debug)]
pub struct ActiveRequest(Arc<ConnShared>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.0.idle_since.lock().unwrap() = Instant::now();
        }
    }
}

/// Where each promised stream is, as far as a client reset is concerned.
#[derive(Debug, Default)]
struct PushStates {
    streams: HashMap<u32, PushState>,
    reader: Option<Waker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PushState {
    /// PUSH_PROMISE queued; the guest has not pushed yet.
    Promised,
    /// The client's reset of it has been handed to `h2`.
    Reset,
    /// Response HEADERS queued in `h2`, not yet written.
    HeadersQueued,
}

/// Why a push may not start.
#[derive(Debug, PartialEq, Eq)]
pub struct AlreadyReset;

/// The parent stream and promised id of the newest PUSH_PROMISE.
///
/// `h2` queues a PUSH_PROMISE on its parent stream and writes the queues of
/// different streams round-robin, so promises made by two parents can reach
/// the wire out of promised-id order, which the client must treat as a
/// connection error (RFC 9113 §5.1.1). The host therefore lets a parent
/// promise only once every PUSH_PROMISE of another parent has been written.
#[derive(Debug, Default)]
pub struct LastPromise {
    /// Parent stream id (0: none yet).
    pub parent: u32,
    /// Promised stream id.
    pub promised: u32,
}

/// How long a promise waits for another parent's PUSH_PROMISE to be written.
const PROMISE_ORDER_WAIT: Duration = Duration::from_secs(5);

/// How many promised streams are remembered for naming client resets.
const RECENT_PUSHES: usize = 256;

/// One promised stream counted against the client's limit; released on drop
/// (or, with [`PushSlot::release_when_ended`], when its stream ends on the wire).
#[derive(Debug)]
pub struct PushSlot(Option<Arc<ConnShared>>);

impl PushSlot {
    /// Keeps the slot taken until the byte tap sees `stream`'s END_STREAM
    /// (or a reset of it): for a response queued whole in `h2`, whose
    /// stream stays open until `h2` has written it. Call before queueing.
    pub fn release_when_ended(mut self, stream: u32) {
        if let Some(conn) = self.0.take() {
            conn.answered.lock().unwrap().insert(stream);
        }
    }
}

impl ConnShared {
    /// A connection with no pushes open yet, whose push diary holds up to
    /// `diary` entries (0: off).
    pub fn new(id: u64, peer: SocketAddr, diary: usize) -> Arc<Self> {
        Arc::new(ConnShared {
            id,
            peer,
            max_send_streams: AtomicUsize::new(usize::MAX),
            push_enabled: AtomicBool::new(true),
            held_resets: AtomicU64::new(0),
            open_pushes: AtomicUsize::new(0),
            answered: Mutex::new(HashSet::new()),
            recent_pushes: Mutex::new(VecDeque::new()),
            promises_written: watch::channel(0).0,
            last_promise: tokio::sync::Mutex::new(LastPromise::default()),
            newest_promise: AtomicU64::new(0),
            pushes: Mutex::new(PushStates::default()),
            diary: (diary > 0).then(|| Mutex::new(PushDiary::new(diary))),
            active: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        })
    }

    /// Counts a request as running until the guard is dropped.
    pub fn request_started(self: &Arc<Self>) -> ActiveRequest {
        self.active.fetch_add(1, Ordering::AcqRel);
        ActiveRequest(self.clone())
    }

    /// Since when no request and no push has been running, if none is.
    pub fn idle_since(&self) -> Option<Instant> {
        if self.active.load(Ordering::Acquire) > 0 || self.open_pushes() > 0 {
            return None;
        }
        Some(*self.idle_since.lock().unwrap())
    }

    /// Records that the client has `path` on `authority` (it requested it,
    /// or it is being pushed); `false` if the diary already had it.
    pub fn diary_insert(&self, authority: &str, path: &str) -> bool {
        self.diary
            .as_ref()
            .is_none_or(|d| d.lock().unwrap().insert(authority, path))
    }

    /// Records the client's current limit on streams the server opens.
    pub fn set_max_send_streams(&self, max: usize) {
        self.max_send_streams.store(max, Ordering::Relaxed);
    }

    /// Records the client's SETTINGS_ENABLE_PUSH value (RFC 9113 §6.5.2:
    /// 0 disables push, 1 enables it; any other value is a connection error
    /// `h2` reports, so it changes nothing here).
    pub fn set_client_enable_push(&self, value: u32) {
        if value > 1 {
            return;
        }
        let enabled = value == 1;
        if self.push_enabled.swap(enabled, Ordering::AcqRel) != enabled {
            tracing::debug!("conn={}: client SETTINGS_ENABLE_PUSH={value}", self.id);
        }
    }

    /// Whether the client accepts pushes, from its SETTINGS frames.
    pub fn push_enabled(&self) -> bool {
        self.push_enabled.load(Ordering::Acquire)
    }

    /// The byte tap started holding back a client reset of `stream`.
    pub fn note_held_reset(&self, stream: u32) {
        let n = self.held_resets.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(
            "conn={}: holding the client's reset of pushed stream {stream} until its HEADERS are written (hold #{n})",
            self.id
        );
    }

    /// How many client resets have been held back on this connection.
    pub fn held_resets(&self) -> u64 {
        self.held_resets.load(Ordering::Relaxed)
    }

    /// Takes a push slot, or returns the client's limit if none is free.
    pub fn try_reserve_push(self: &Arc<Self>) -> Result<PushSlot, usize> {
        let max = self.max_send_streams.load(Ordering::Relaxed);
        self.open_pushes
            .try_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .map(|_| PushSlot(Some(self.clone())))
            .map_err(|_| max)
    }

    /// Remembers that `stream` was promised for `path`.
    pub fn note_promised(&self, stream: u32, path: &str) {
        let mut recent = self.recent_pushes.lock().unwrap();
        if recent.len() == RECENT_PUSHES {
            recent.pop_front();
        }
        recent.push_back((stream, path.to_string()));
    }

    /// Logs a RST_STREAM the client sent, naming the pushed path if known.
    pub fn on_client_reset(&self, stream: u32, code: u32) {
        let reason = h2::Reason::from(code);
        if stream % 2 == 1 {
            tracing::info!(
                "conn={} stream={stream}: client reset its request stream ({reason:?})",
                self.id
            );
            // h2 drops the frames still queued on a reset stream, so its
            // unwritten PUSH_PROMISEs will never be written: stop waiting.
            let newest = self.newest_promise.load(Ordering::Acquire);
            if (newest >> 32) as u32 == stream {
                self.on_promise_written(newest as u32);
            }
            return;
        }
        self.on_push_ended(stream);
        let recent = self.recent_pushes.lock().unwrap();
        let path = recent
            .iter()
            .find(|(id, _)| *id == stream)
            .map_or("?", |(_, p)| p.as_str());
        tracing::info!(
            "conn={} stream={stream}: client reset pushed stream {path} ({reason:?})",
            self.id
        );
    }

    /// Records that the PUSH_PROMISE for `promised` was written to the socket.
    pub fn on_promise_written(&self, promised: u32) {
        self.promises_written.send_if_modified(|written| {
            let newer = promised > *written;
            if newer {
                *written = promised;
            }
            newer
        });
    }

    /// Records the newest promise (call with [`ConnShared::last_promise`] held).
    pub fn set_newest_promise(&self, last: &mut LastPromise, parent: u32, promised: u32) {
        *last = LastPromise { parent, promised };
        self.newest_promise
            .store(u64::from(parent) << 32 | u64::from(promised), Ordering::Release);
    }

    /// The newest promise on this connection, locked for making the next one.
    pub fn last_promise(&self) -> &tokio::sync::Mutex<LastPromise> {
        &self.last_promise
    }

    /// Waits until the PUSH_PROMISE for `promised` has been written; `false`
    /// if that takes longer than a few seconds (a stalled connection).
    pub async fn wait_promise_written(&self, promised: u32) -> bool {
        let mut written = self.promises_written.subscribe();
        if *written.borrow() < promised {
            tracing::debug!(
                "conn={}: a promise waits for the PUSH_PROMISE of stream {promised} to be written",
                self.id
            );
        }
        matches!(
            tokio::time::timeout(PROMISE_ORDER_WAIT, written.wait_for(|w| *w >= promised)).await,
            Ok(Ok(_))
        )
    }

    /// A PUSH_PROMISE for `stream` was queued.
    pub fn push_promised(&self, stream: u32) {
        self.pushes.lock().unwrap().streams.insert(stream, PushState::Promised);
    }

    /// The guest is about to queue the response HEADERS of `stream`: from
    /// now until they are written, a client reset of it is held back. Fails
    /// if a reset of it has already been handed to `h2`.
    pub fn begin_push(&self, stream: u32) -> Result<(), AlreadyReset> {
        let mut pushes = self.pushes.lock().unwrap();
        match pushes.streams.get(&stream) {
            Some(PushState::Reset) => {
                pushes.streams.remove(&stream);
                Err(AlreadyReset)
            }
            _ => {
                pushes.streams.insert(stream, PushState::HeadersQueued);
                Ok(())
            }
        }
    }

    /// `stream` is no longer waiting on anything (pushed, failed or dropped).
    pub fn end_push(&self, stream: u32) {
        let mut pushes = self.pushes.lock().unwrap();
        if pushes.streams.remove(&stream) == Some(PushState::HeadersQueued)
            && let Some(reader) = pushes.reader.take()
        {
            reader.wake();
        }
    }

    /// Pushed stream `stream` ended on the wire (END_STREAM written, or reset
    /// by either side): if its slot was waiting for that, it is free now.
    pub fn on_push_ended(&self, stream: u32) {
        if self.answered.lock().unwrap().remove(&stream) {
            self.open_pushes.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The write side saw HEADERS on server stream `stream` go out.
    pub fn on_push_headers_written(&self, stream: u32) {
        self.end_push(stream);
    }

    /// Whether a client reset of `stream` must wait (its response HEADERS
    /// are queued but not written); if so, `reader` is woken when it may go.
    /// Otherwise the reset is recorded as handed to `h2`.
    pub fn must_hold_reset(&self, stream: u32, reader: &Waker) -> bool {
        let mut pushes = self.pushes.lock().unwrap();
        match pushes.streams.get_mut(&stream) {
            Some(PushState::HeadersQueued) => {
                pushes.reader = Some(reader.clone());
                true
            }
            Some(state) => {
                *state = PushState::Reset;
                false
            }
            None => false,
        }
    }

    /// Pushed streams open right now.
    pub fn open_pushes(&self) -> usize {
        self.open_pushes.load(Ordering::Relaxed)
    }
}

impl Drop for PushSlot {
    fn drop(&mut self) {
        if let Some(conn) = &self.0 {
            conn.open_pushes.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_respect_the_client_limit() {
        let conn = ConnShared::new(1, "127.0.0.1:1".parse().unwrap(), 0);
        conn.set_max_send_streams(2);
        let a = conn.try_reserve_push().unwrap();
        let _b = conn.try_reserve_push().unwrap();
        assert_eq!(conn.try_reserve_push().unwrap_err(), 2);
        drop(a);
        assert!(conn.try_reserve_push().is_ok());
        conn.set_max_send_streams(0);
        assert_eq!(conn.try_reserve_push().unwrap_err(), 0);
    }
}
