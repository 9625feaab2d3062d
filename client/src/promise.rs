//! Push promises: [`PushPromise`] (delivered) and [`RefusedPromise`]
//! (refused per RFC 9113 §8.4, reported instead of delivered).

use std::fmt;

use h2::client::PushedResponseFuture;
use http::{HeaderMap, Method, Uri};

use crate::connection::Origin;
use crate::response::{Response, read_body};
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
}

impl PushPromise {
    pub(crate) fn new(request: http::Request<()>, response: PushedResponseFuture) -> PushPromise {
        let stream_id = response.stream_id().as_u32();
        PushPromise {
            request,
            response,
            stream_id,
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
        }
    }
}

/// A promise the client refused instead of delivering (RFC 9113 §8.4): the
/// promised stream was reset (with `PROTOCOL_ERROR` for an unsafe or
/// foreign promise) and will never be seen by
/// [`next_promise`](crate::ResponseHandle::next_promise).
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
}

impl RefusedPromise {
    /// The error code the promised stream was reset with: `PROTOCOL_ERROR`.
    ///
    /// (One exception for [`Refusal::RefusedByProtocolLayer`]: when a push
    /// exceeds the client's limit of 100 concurrent pushes, `h2` resets it
    /// with `REFUSED_STREAM` instead; the client cannot tell the two apart.)
    pub fn reason(&self) -> Reason {
        Reason::PROTOCOL_ERROR
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
        write!(f, " refused ({:?}): {}", self.reason(), self.refusal)
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
        let r = RefusedPromise {
            stream_id: 2,
            method: Some(Method::GET),
            uri: Some("http://evil.example/x".parse().unwrap()),
            refusal: Refusal::ForeignAuthority {
                promised: "evil.example".into(),
                expected: "127.0.0.1:8080".into(),
            },
        };
        assert_eq!(
            r.to_string(),
            "push promise for GET http://evil.example/x refused (PROTOCOL_ERROR): the server is \
             not authoritative for `evil.example` (the request went to `127.0.0.1:8080`)"
        );
        assert_eq!(r.path(), Some("/x"));
    }
}
