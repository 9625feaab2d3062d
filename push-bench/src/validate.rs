//! What makes a request fail: the error kinds, the push-count rule, and the
//! body check (each body must equal the first body seen for its path).
//!
//! Bodies are compared chunk by chunk against the stored first body
//! ([`BodyCheck`]), so the hot path neither copies nor hashes: only the first
//! body seen for a path (per stream slot) is accumulated, and it is then
//! published in the run-wide [`BodyStore`], whose first entry for a path wins.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

/// The kinds of errors counted, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer pushes than `--pushes`.
    MissingPush,
    /// More pushes than `--pushes` (or any push with `--no-push`).
    ExtraPush,
    /// A non-2xx status on the response or a pushed response.
    Status,
    /// A body differing from the first body seen for its path.
    Body,
    /// The server reset a stream (RST_STREAM).
    Reset,
    /// The connection failed (I/O, GOAWAY, protocol error, refused connect).
    Connection,
    /// A request was still in flight long after the run ended.
    Stalled,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::MissingPush,
        ErrorKind::ExtraPush,
        ErrorKind::Status,
        ErrorKind::Body,
        ErrorKind::Reset,
        ErrorKind::Connection,
        ErrorKind::Stalled,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in the table and as the JSON key.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::MissingPush => "missing_push",
            ErrorKind::ExtraPush => "extra_push",
            ErrorKind::Status => "status",
            ErrorKind::Body => "body_mismatch",
            ErrorKind::Reset => "reset",
            ErrorKind::Connection => "connection",
            ErrorKind::Stalled => "stalled",
        }
    }

    /// Classifies an `h2` error: a reset by the peer is a stream error,
    /// anything else (I/O, GOAWAY, protocol violations) a connection error.
    pub fn of_h2(e: &h2::Error) -> ErrorKind {
        if e.is_reset() && e.is_remote() && !e.is_go_away() {
            ErrorKind::Reset
        } else {
            ErrorKind::Connection
        }
    }
}

/// One failed request: its kind and a message for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    /// The server never processed the request (RFC 9113 §8.7): it was
    /// never sent, or the stream was above a GOAWAY's last-stream-id, or
    /// refused with REFUSED_STREAM. It may be sent again on a new
    /// connection.
    pub unprocessed: bool,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            unprocessed: false,
        }
    }

    /// A stream's `h2` error; `unprocessed` when it says the server never
    /// processed the stream: h2 gives a stream above the GOAWAY's
    /// last-stream-id (and any request made after it) the remote GOAWAY as
    /// its error, while streams at or below it end normally or, if the
    /// connection drops first, with an I/O error.
    pub fn h2(what: &str, e: &h2::Error) -> Failure {
        let refused = e.is_reset() && e.is_remote() && e.reason() == Some(h2::Reason::REFUSED_STREAM);
        Failure {
            unprocessed: (e.is_go_away() && e.is_remote()) || refused,
            ..Failure::new(ErrorKind::of_h2(e), format!("{what}: {e}"))
        }
    }

    /// The same failure of a request that was never sent.
    pub fn unsent(self) -> Failure {
        Failure {
            unprocessed: true,
            ..self
        }
    }

    /// The same failure, on a push (the request itself was processed).
    pub fn processed(self) -> Failure {
        Failure {
            unprocessed: false,
            ..self
        }
    }
}

/// The push-count rule: exactly `expected` pushes.
pub fn check_push_count(got: usize, expected: usize) -> Result<(), Failure> {
    use std::cmp::Ordering;
    match got.cmp(&expected) {
        Ordering::Equal => Ok(()),
        Ordering::Less => Err(Failure::new(
            ErrorKind::MissingPush,
            format!("got {got} pushes, expected {expected}"),
        )),
        Ordering::Greater => Err(Failure::new(
            ErrorKind::ExtraPush,
            format!("got {got} pushes, expected {expected}"),
        )),
    }
}

/// The status rule: 2xx.
pub fn check_status(status: http::StatusCode, path: &str) -> Result<(), Failure> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::new(ErrorKind::Status, format!("status {status} for {path}")))
    }
}

/// Compares a body, chunk by chunk, with the expected one, or (when there is
/// none yet) accumulates it so it can become the reference.
#[derive(Debug, Default)]
pub struct BodyCheck {
    expected: Option<Bytes>,
    offset: usize,
    differs: bool,
    first: BytesMut,
}

/// The outcome of a finished [`BodyCheck`].
#[derive(Debug, PartialEq, Eq)]
pub enum BodyOutcome {
    Matches,
    Differs,
    /// No reference existed: this is the first body seen for the path.
    First(Bytes),
}

impl BodyCheck {
    /// Starts checking against `expected` (`None`: accumulate).
    pub fn start(&mut self, expected: Option<Bytes>) {
        self.expected = expected;
        self.offset = 0;
        self.differs = false;
        self.first.clear();
    }

    pub fn chunk(&mut self, chunk: &[u8]) {
        match &self.expected {
            Some(expected) => {
                if !self.differs {
                    let end = self.offset + chunk.len();
                    self.differs = expected.get(self.offset..end) != Some(chunk);
                    self.offset = end;
                }
            }
            None => self.first.extend_from_slice(chunk),
        }
    }

    pub fn finish(&mut self) -> BodyOutcome {
        match self.expected.take() {
            Some(expected) if !self.differs && self.offset == expected.len() => BodyOutcome::Matches,
            Some(_) => BodyOutcome::Differs,
            None => BodyOutcome::First(self.first.split().freeze()),
        }
    }
}

/// The first body seen for each path, shared by the whole run, with a small
/// per-slot cache in front ([`BodyCache`]) so the lock is taken only the
/// first time a slot meets a path.
#[derive(Debug, Default)]
pub struct BodyStore {
    bodies: Mutex<HashMap<String, Bytes>>,
}

impl BodyStore {
    fn get(&self, path: &str) -> Option<Bytes> {
        self.bodies.lock().unwrap_or_else(|e| e.into_inner()).get(path).cloned()
    }

    /// Records `body` as the reference for `path` unless one exists; returns
    /// the reference.
    fn publish(&self, path: &str, body: Bytes) -> Bytes {
        let mut bodies = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
        bodies.entry(path.to_owned()).or_insert(body).clone()
    }
}

/// A stream slot's view of the [`BodyStore`].
#[derive(Debug, Default)]
pub struct BodyCache {
    known: Vec<(String, Bytes)>,
}

impl BodyCache {
    /// The reference body for `path`, if one was seen anywhere in the run.
    pub fn expected(&mut self, store: &BodyStore, path: &str) -> Option<Bytes> {
        if let Some((_, body)) = self.known.iter().find(|(p, _)| p == path) {
            return Some(body.clone());
        }
        let body = store.get(path)?;
        self.known.push((path.to_owned(), body.clone()));
        Some(body)
    }

    /// Turns a finished check into a verdict, publishing first bodies.
    pub fn settle(&mut self, store: &BodyStore, path: &str, outcome: BodyOutcome) -> Result<(), Failure> {
        let differs = || {
            Failure::new(
                ErrorKind::Body,
                format!("body of {path} differs from the first one seen"),
            )
        };
        match outcome {
            BodyOutcome::Matches => Ok(()),
            BodyOutcome::Differs => Err(differs()),
            BodyOutcome::First(body) => {
                let reference = store.publish(path, body.clone());
                if !self.known.iter().any(|(p, _)| p == path) {
                    self.known.push((path.to_owned(), reference.clone()));
                }
                if reference == body { Ok(()) } else { Err(differs()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: Option<&'static [u8]>, chunks: &[&[u8]]) -> BodyOutcome {
        let mut c = BodyCheck::default();
        c.start(expected.map(Bytes::from_static));
        for ch in chunks {
            c.chunk(ch);
        }
        c.finish()
    }

    #[test]
    fn body_check_compares_across_chunks() {
        assert_eq!(
            check(Some(b"hello world"), &[b"hello", b" ", b"world"]),
            BodyOutcome::Matches
        );
        assert_eq!(
            check(Some(b"hello world"), &[b"hello", b" ", b"worle"]),
            BodyOutcome::Differs
        );
        assert_eq!(check(Some(b"hello"), &[b"hell"]), BodyOutcome::Differs, "short");
        assert_eq!(check(Some(b"hello"), &[b"hello", b"!"]), BodyOutcome::Differs, "long");
        assert_eq!(check(Some(b""), &[]), BodyOutcome::Matches);
        assert_eq!(
            check(None, &[b"ab", b"cd"]),
            BodyOutcome::First(Bytes::from_static(b"abcd"))
        );
    }

    #[test]
    fn body_check_is_reusable() {
        let mut c = BodyCheck::default();
        c.start(Some(Bytes::from_static(b"x")));
        c.chunk(b"y");
        assert_eq!(c.finish(), BodyOutcome::Differs);
        c.start(Some(Bytes::from_static(b"x")));
        c.chunk(b"x");
        assert_eq!(c.finish(), BodyOutcome::Matches);
    }

    #[test]
    fn first_body_wins_across_slots() {
        let store = BodyStore::default();
        let (mut a, mut b) = (BodyCache::default(), BodyCache::default());
        assert_eq!(a.expected(&store, "/p"), None);
        assert_eq!(b.expected(&store, "/p"), None);
        // Both slots saw the path before either published: first one wins.
        assert!(
            a.settle(&store, "/p", BodyOutcome::First(Bytes::from_static(b"one")))
                .is_ok()
        );
        let err = b
            .settle(&store, "/p", BodyOutcome::First(Bytes::from_static(b"two")))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Body);
        assert_eq!(b.expected(&store, "/p"), Some(Bytes::from_static(b"one")));
        let mut c = BodyCache::default();
        assert_eq!(c.expected(&store, "/p"), Some(Bytes::from_static(b"one")));
        assert_eq!(c.expected(&store, "/q"), None);
    }

    #[test]
    fn push_count_and_status() {
        assert!(check_push_count(3, 3).is_ok());
        assert_eq!(check_push_count(2, 3).unwrap_err().kind, ErrorKind::MissingPush);
        assert_eq!(check_push_count(4, 3).unwrap_err().kind, ErrorKind::ExtraPush);
        assert!(check_status(http::StatusCode::NO_CONTENT, "/").is_ok());
        assert_eq!(
            check_status(http::StatusCode::NOT_FOUND, "/x").unwrap_err().kind,
            ErrorKind::Status
        );
    }

    #[test]
    fn kinds_are_indexed_in_order() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
