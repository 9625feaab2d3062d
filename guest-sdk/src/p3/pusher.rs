//! [`Pusher`] and [`Promised`]: the `pusher` and `promised` resources of
//! `push:handler/push@0.2.0`, with `http` types at the edges.

use wasip3::http::types::Request;
use wasip3::http_compat::IncomingBody;

use super::bindings::push::handler::push as raw;

/// Why a promise or push failed; the same cases as 0.1's
/// [`crate::Error`], without `already-responded` (a promise after the main
/// body ended is [`Error::Closed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The client disabled push (or the request is HTTP/1.1): the host
    /// announces the path in a 103 Early Hints and a `link` header instead.
    PushDisabled,
    /// The client refused or reset the stream, or already has the path.
    Refused,
    /// A malformed path, method, header or response; nothing was sent.
    Invalid(String),
    /// The main response's body has ended, or the stream is closed.
    Closed,
    /// A push limit was reached.
    LimitExceeded(String),
}

impl std::fmt::Display for Error {
    /// The WIT case name, then what it means (as 0.1's [`crate::Error`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::PushDisabled => f.write_str("push-disabled: the client disabled server push"),
            Error::Refused => f.write_str("refused: the client reset or refused the promised stream"),
            Error::Invalid(why) => write!(f, "invalid: {why}"),
            Error::Closed => f.write_str("closed: the main body has ended, or the stream or connection is closed"),
            Error::LimitExceeded(why) => write!(f, "limit-exceeded: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<raw::Error> for Error {
    fn from(e: raw::Error) -> Self {
        match e {
            raw::Error::PushDisabled => Error::PushDisabled,
            raw::Error::Refused => Error::Refused,
            raw::Error::Invalid(why) => Error::Invalid(why),
            raw::Error::Closed => Error::Closed,
            raw::Error::LimitExceeded(why) => Error::LimitExceeded(why),
        }
    }
}

/// The push side of one incoming request.
pub struct Pusher(raw::Pusher);

impl Pusher {
    /// The pusher of `request`, the request your handler was given; take it
    /// before the body is read. `Err(Invalid)` on a host without push
    /// (never: such a host refuses to load the component) or for a request
    /// the host did not pass in.
    pub fn for_request(request: &Request) -> Result<Pusher, Error> {
        Ok(Pusher(raw::Pusher::for_request(request)?))
    }

    /// The pusher of an `http::Request` made from the handler's request by
    /// `wasip3`'s `http_compat` (what `spin-sdk` 7's `Request` is); take it
    /// before the body is read (`Err(Invalid)` after).
    pub fn for_http(request: &mut http::Request<IncomingBody<Request>>) -> Result<Pusher, Error> {
        let body = request.body_mut();
        let Some(raw) = body.take_unstarted() else {
            return Err(Error::Invalid(
                "the request body was already read: take the pusher first".into(),
            ));
        };
        let pusher = Pusher::for_request(&raw);
        *body = IncomingBody::new(raw).map_err(|code| Error::Invalid(format!("{code:?}")))?;
        pusher
    }

    /// Promises a `GET` of `path` (same origin). Allowed until the main
    /// response's body ends.
    pub fn promise(&self, path: &str) -> Result<Promised, Error> {
        self.promise_with("GET", path, &[])
    }

    /// Promises `method` (`GET` or `HEAD`) of `path` with request `headers`.
    pub fn promise_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<Promised, Error> {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
            .collect::<Vec<_>>();
        Ok(Promised(self.0.promise(method, path, &headers)?))
    }
}

/// A promised stream; dropped unanswered, the host resets it (CANCEL).
pub struct Promised(raw::Promised);

impl Promised {
    /// The promised path.
    pub fn path(&self) -> String {
        self.0.path()
    }

    /// Whether the client already refused the stream (skip building the
    /// response: [`Promised::push`] would give [`Error::Refused`]).
    pub fn is_refused(&self) -> bool {
        self.0.is_refused()
    }

    /// Answers the promise with `response`: its head goes out after the
    /// main response's, its body as it is produced (streamed under flow
    /// control, beside the main body). Returns once the host took it.
    pub fn push<B>(self, response: http::Response<B>) -> Result<(), Error>
    where
        B: http_body::Body + std::any::Any,
        B::Data: Into<Vec<u8>>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        let response = wasip3::http_compat::http_into_wasi_response(response)
            .map_err(|code| Error::Invalid(format!("the response cannot be built: {code:?}")))?;
        self.push_wasi(response)
    }

    /// Answers the promise with a `wasi:http` response built by hand.
    pub fn push_wasi(self, response: wasip3::http::types::Response) -> Result<(), Error> {
        Ok(raw::Promised::push(self.0, response)?)
    }
}
