//! Push promises: [`PushPromise`] (delivered) and [`RefusedPromise`]
//! (refused per RFC 9113 §8.4, reported instead of delivered).

use std::fmt;

use futures_util::FutureExt;
use h2::RecvStream;
use h2::client::PushedResponseFuture;
use http::{HeaderMap, Method, Uri};

use crate::origin::Origin;
use crate::response::{Response, read_body};
use crate::wire::{RESET_WAIT, Tap};
use crate::{Error, Reason};

/// A promise the server made: "I will push the response to this request".
///
/// Get one from [`ResponseHandle::next_promise`](crate::ResponseHandle::next_promise),
/// then either [`reject`](PushPromise::reject) it or read its
/// [`response`](PushPromise::response). Dropping it unread rejects it too.
///
/// The pushed response is not read until asked for, so flow control holds
/// the server back while the promise sits unused (at most one stream
/// window, 64 KiB, is buffered per promise), and a rejected promise whose
/// response has not fully arrived really is cancelled on the wire.
pub struct PushPromise {
    request: http::Request<()>,
    response: PushedResponseFuture,
    stream_id: u32,
    tap: Tap,
}

impl PushPromise {
    pub(crate) fn new(request: http::Request<()>, response: PushedResponseFuture, tap: Tap) -> PushPromise {
        let stream_id = response.stream_id().as_u32();
        PushPromise {
            request,
            response,
            stream_id,
            tap,
        }
    }

    /// The promised request's method (`GET` or `HEAD`; `h2` refuses others).
    pub fn method(&self) -> &Method {
        self.request.method()
    }

    /// The promised request's path, with its query if any (e.g. `/resource1`).
    pub fn path(&self) -> &str {
        self.request.uri().path_and_query().map_or("/", |p| p.as_str())
    }

    /// The promised request's authority (the client has checked that it is
    /// the one the request went to).
    pub fn authority(&self) -> Option<&str> {
        self.request.uri().authority().map(|a| a.as_str())
    }

    /// The promised request's full URI.
    pub fn uri(&self) -> &Uri {
        self.request.uri()
    }

    /// The promised request's headers (pseudo-headers excluded).
    pub fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    /// The id of the stream the response will be pushed on.
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// Rejects the promise: the server is sent `RST_STREAM(CANCEL)` on the
    /// promised stream so it stops sending it.
    ///
    /// If the pushed response has already arrived in full, the stream is
    /// closed and HTTP/2 forbids resetting it; the response is then just
    /// discarded.
    pub fn reject(self) {
        tracing::debug!(stream = self.stream_id, path = self.path(), "rejecting push promise");
        // `h2` has no call to reset a pushed stream: dropping the last
        // handle of a stream that is not closed makes it send
        // RST_STREAM(CANCEL) (see `maybe_cancel` in h2's streams.rs).
        drop(self.response);
    }

    /// Rejects the promise like [`reject`](Self::reject), then waits (up to
    /// 5 seconds) until the reset has been written to the connection, and
    /// reports it: [`RefusedPromise::reason`] is the error code that went out
    /// on the wire (`CANCEL`), or `None` if no reset was sent because the
    /// pushed response had already arrived in full, the server had reset
    /// the stream, or the connection ended first.
    ///
    /// Its [`refusal`](RefusedPromise::refusal) is [`Refusal::Rejected`].
    /// It is not added to
    /// [`refused_promises`](crate::ResponseHandle::refused_promises).
    pub async fn reject_and_confirm(self) -> RefusedPromise {
        tracing::debug!(stream = self.stream_id, path = self.path(), "rejecting push promise");
        let PushPromise {
            request,
            response,
            stream_id,
            tap,
        } = self;
        let reset = drop_to_reset(response, &tap, stream_id).await;
        let (parts, ()) = request.into_parts();
        RefusedPromise {
            stream_id,
            method: Some(parts.method),
            uri: Some(parts.uri),
            refusal: Refusal::Rejected,
            reset,
        }
    }

    /// Waits for the pushed response and reads its body.
    pub async fn response(self) -> Result<Response, Error> {
        let during = format!("receiving the pushed response for {}", self.path());
        let response = self.response.await.map_err(|e| Error::from_h2(e, during.clone()))?;
        read_body(response, &during).await
    }
}

impl fmt::Debug for PushPromise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushPromise")
            .field("stream_id", &self.stream_id)
            .field("method", self.method())
            .field("uri", self.uri())
            .field("headers", self.headers())
            .finish()
    }
}

/// Drops the last handle of a pushed stream, which makes `h2` reset it
/// unless it is already over, and waits (up to [`RESET_WAIT`]) for that
/// reset to be written: the code that went out, if any.
pub(crate) async fn drop_to_reset(response: PushedResponseFuture, tap: &Tap, stream_id: u32) -> Option<Reason> {
    if is_over(response) {
        // h2 does not reset a closed stream (RFC 9113 §5.1).
        return tap.reset_sent(stream_id);
    }
    tap.wait_reset(stream_id, RESET_WAIT).await
}

/// Whether a pushed stream is already over (fully received, reset by the
/// server or failed), looking only at what has arrived; drops `response`.
pub(crate) fn is_over(mut response: PushedResponseFuture) -> bool {
    match (&mut response).now_or_never() {
        None => false,
        Some(Err(_)) => true,
        Some(Ok(head)) => body_is_over(&mut head.into_body()),
    }
}

fn body_is_over(body: &mut RecvStream) -> bool {
    loop {
        match body.data().now_or_never() {
            None => return false,
            Some(Some(Ok(chunk))) => {
                let _ = body.flow_control().release_capacity(chunk.len());
            }
            Some(Some(Err(_))) => return true,
            Some(None) => break,
        }
    }
    match body.trailers().now_or_never() {
        None => false,
        Some(Ok(_)) => body.is_end_stream(),
        Some(Err(_)) => true,
    }
}

/// Why a promise was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The promise names an authority other than the request's, so the
    /// server is not known to be authoritative for it.
    ForeignAuthority {
        /// The promised `:authority`.
        promised: String,
        /// The request's authority.
        expected: String,
    },
    /// The promise has no `:authority`.
    MissingAuthority,
    /// The promise's `:scheme` differs from the request's.
    ForeignScheme {
        /// The promised `:scheme`.
        promised: String,
        /// The request's scheme.
        expected: String,
    },
    /// `h2` itself refused the promise before the client saw its headers:
    /// its method is not safe and cacheable (GET or HEAD), it announces a
    /// request body, its header block was too large, or too many pushes
    /// were open. The method and path are then unknown.
    RefusedByProtocolLayer,
    /// The application rejected the promise with
    /// [`PushPromise::reject_and_confirm`].
    Rejected,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ForeignAuthority { promised, expected } => write!(
                f,
                "the server is not authoritative for `{promised}` (the request went to `{expected}`)"
            ),
            Refusal::MissingAuthority => f.write_str("the promise has no :authority"),
            Refusal::ForeignScheme { promised, expected } => write!(
                f,
                "the promise is for scheme `{promised}` but the request used `{expected}`"
            ),
            Refusal::RefusedByProtocolLayer => f.write_str(
                "refused by the HTTP/2 layer: an unsafe method (only GET and HEAD may be pushed), \
                 a request body, an oversized header block or too many open pushes",
            ),
            Refusal::Rejected => f.write_str("rejected by the application"),
        }
    }
}

/// A promise the client refused instead of delivering (RFC 9113 §8.4): the
/// promised stream was reset (with `PROTOCOL_ERROR` for an unsafe or
/// foreign promise) and will never be seen by
/// [`next_promise`](crate::ResponseHandle::next_promise). Also the report of
/// [`PushPromise::reject_and_confirm`] ([`Refusal::Rejected`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedPromise {
    /// The promised stream's id.
    pub stream_id: u32,
    /// The promised method, if known.
    pub method: Option<Method>,
    /// The promised URI, if known.
    pub uri: Option<Uri>,
    /// Why it was refused.
    pub refusal: Refusal,
    /// The code of the RST_STREAM that went out, read off the wire.
    reset: Option<Reason>,
}

impl RefusedPromise {
    pub(crate) fn new(stream_id: u32, method: Option<Method>, uri: Option<Uri>, refusal: Refusal) -> RefusedPromise {
        RefusedPromise {
            stream_id,
            method,
            uri,
            refusal,
            reset: None,
        }
    }

    pub(crate) fn with_reset(mut self, reset: Option<Reason>) -> RefusedPromise {
        self.reset = reset;
        self
    }

    /// The error code of the `RST_STREAM` frame the client actually sent
    /// for the promised stream, as read from the bytes written to the
    /// connection; `None` if no reset was sent (the stream was already over:
    /// fully pushed or reset by the server, or the connection ended first).
    ///
    /// In practice: `PROTOCOL_ERROR` for a foreign authority or scheme (the
    /// client rewrites `h2`'s `CANCEL`, RFC 9113 §8.4); for
    /// [`Refusal::RefusedByProtocolLayer`] whatever `h2` sent, e.g.
    /// `PROTOCOL_ERROR` for an unsafe method and `REFUSED_STREAM` for a push
    /// beyond the client's limit of 100 concurrent pushes; `CANCEL` for
    /// [`Refusal::Rejected`].
    pub fn reason(&self) -> Option<Reason> {
        self.reset
    }

    /// The promised path, if known.
    pub fn path(&self) -> Option<&str> {
        self.uri.as_ref().and_then(|u| u.path_and_query()).map(|p| p.as_str())
    }
}

impl fmt::Display for RefusedPromise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.method, &self.uri) {
            (Some(m), Some(u)) => write!(f, "push promise for {m} {u}")?,
            _ => write!(f, "push promise on stream {}", self.stream_id)?,
        }
        write!(f, " refused ({}): {}", reset_label(self.reason()), self.refusal)
    }
}

/// `PROTOCOL_ERROR`, or `no reset sent`.
fn reset_label(reset: Option<Reason>) -> String {
    match reset {
        Some(code) => format!("{code:?}"),
        None => "no reset sent".to_owned(),
    }
}

/// RFC 9113 §8.4 checks `h2` leaves to its user: the server must be
/// authoritative for the promise, i.e. same scheme and authority as the
/// request (host compared case-insensitively, default port normalized).
pub(crate) fn check(origin: &Origin, request: &http::Request<()>) -> Result<(), Refusal> {
    let uri = request.uri();
    let scheme = uri.scheme_str().unwrap_or("");
    if !scheme.eq_ignore_ascii_case(origin.scheme()) {
        return Err(Refusal::ForeignScheme {
            promised: scheme.to_owned(),
            expected: origin.scheme().to_owned(),
        });
    }
    let Some(authority) = uri.authority() else {
        return Err(Refusal::MissingAuthority);
    };
    let same_host = authority.host().eq_ignore_ascii_case(origin.host());
    let port = authority.port_u16().unwrap_or(origin.default_port());
    if authority.as_str().contains('@') || !same_host || port != origin.port() {
        return Err(Refusal::ForeignAuthority {
            promised: authority.to_string(),
            expected: origin.authority().to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(uri: &str) -> http::Request<()> {
        http::Request::get(uri).body(()).unwrap()
    }

    #[test]
    fn authority_check_normalizes_case_and_default_port() {
        let origin = Origin::parse("http://Example.COM/x").unwrap();
        assert_eq!(check(&origin, &promise("http://example.com/a")), Ok(()));
        assert_eq!(check(&origin, &promise("http://EXAMPLE.com:80/a")), Ok(()));
        assert_eq!(check(&origin, &promise("HTTP://example.com/a")), Ok(()));
        assert!(matches!(
            check(&origin, &promise("http://example.com:8080/a")),
            Err(Refusal::ForeignAuthority { .. })
        ));
        assert!(matches!(
            check(&origin, &promise("http://evil.example/a")),
            Err(Refusal::ForeignAuthority { .. })
        ));
        assert!(matches!(
            check(&origin, &promise("http://user@example.com/a")),
            Err(Refusal::ForeignAuthority { .. })
        ));
        assert!(matches!(
            check(&origin, &promise("https://example.com/a")),
            Err(Refusal::ForeignScheme { .. })
        ));
        assert_eq!(
            check(&origin, &promise("/a")),
            Err(Refusal::ForeignScheme {
                promised: String::new(),
                expected: "http".into()
            })
        );

        let origin = Origin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(check(&origin, &promise("http://127.0.0.1:8080/a")), Ok(()));
        assert!(check(&origin, &promise("http://127.0.0.1/a")).is_err());
        let origin = Origin::parse("http://[::1]:8080").unwrap();
        assert_eq!(check(&origin, &promise("http://[::1]:8080/a")), Ok(()));
    }

    #[test]
    fn refusals_read_well() {
        let r = RefusedPromise::new(
            2,
            Some(Method::GET),
            Some("http://evil.example/x".parse().unwrap()),
            Refusal::ForeignAuthority {
                promised: "evil.example".into(),
                expected: "127.0.0.1:8080".into(),
            },
        );
        assert_eq!(r.reason(), None);
        assert_eq!(
            r.to_string(),
            "push promise for GET http://evil.example/x refused (no reset sent): the server is \
             not authoritative for `evil.example` (the request went to `127.0.0.1:8080`)"
        );
        let r = r.with_reset(Some(Reason::PROTOCOL_ERROR));
        assert_eq!(r.reason(), Some(Reason::PROTOCOL_ERROR));
        assert_eq!(
            r.to_string(),
            "push promise for GET http://evil.example/x refused (PROTOCOL_ERROR): the server is \
             not authoritative for `evil.example` (the request went to `127.0.0.1:8080`)"
        );
        assert_eq!(r.path(), Some("/x"));
        let r = RefusedPromise::new(6, None, None, Refusal::RefusedByProtocolLayer)
            .with_reset(Some(Reason::REFUSED_STREAM));
        assert!(
            r.to_string()
                .starts_with("push promise on stream 6 refused (REFUSED_STREAM): "),
            "{r}"
        );
    }
}
