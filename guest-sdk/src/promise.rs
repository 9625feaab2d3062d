//! [`PushPromise`] (what to promise) and [`Promised`] (a promise that was sent).

use crate::__private::bindings::push::handler::caller::Promised as RawPromised;
use crate::__private::bindings::push::handler::types::PushPromise as RawPushPromise;
use crate::headers::{self, Header};

/// A request that the server promises to answer before the client asks for it
/// (an HTTP/2 `PUSH_PROMISE`).
///
/// Pass it to [`Caller::promise`](crate::Caller::promise); answer the returned
/// [`Promised`] with [`Caller::push`](crate::Caller::push). HTTP/2 requires
/// promised requests to be safe and cacheable without a body, so the host
/// answers [`Error::Invalid`](crate::Error::Invalid) for a method other than
/// `GET` or `HEAD`, a path that does not start with `/`, or pseudo-header,
/// connection-specific or body-related (`content-length`) header fields. The
/// scheme and authority are those of the request being answered.
///
/// ```
/// use push_guest::PushPromise;
///
/// let p = PushPromise::get("/style.css").with_header("Accept", "text/css");
/// assert_eq!((p.method(), p.path()), ("GET", "/style.css"));
/// assert_eq!(p.headers()[0], ("accept".to_string(), b"text/css".to_vec()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPromise {
    method: String,
    path: String,
    headers: Vec<Header>,
}

impl PushPromise {
    /// A promise of `method path` (path with optional `?query`), with no header
    /// fields.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        PushPromise {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
        }
    }

    /// A promise of `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// A promise of `HEAD path`.
    pub fn head(path: impl Into<String>) -> Self {
        Self::new("HEAD", path)
    }

    /// Appends a request header field to the promise; the name is lowercased.
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(headers::field(name.as_ref(), value));
        self
    }

    /// The promised method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The promised path (and query).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The promised request's header fields.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    pub(crate) fn into_raw(self) -> RawPushPromise {
        RawPushPromise {
            method: self.method,
            path: self.path,
            headers: self.headers,
        }
    }
}

/// A promise the host has sent to the client: a reserved stream that waits for
/// its response.
///
/// Answer it with [`Caller::push`](crate::Caller::push), which consumes it.
/// Dropping it unanswered releases the handle, and the host then cancels the
/// promised stream.
#[derive(Debug)]
pub struct Promised {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Raw(RawPromised),
    /// A promise under `push_guest::testing`: its id and path.
    #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
    Simulated(u32, String),
}

impl Promised {
    pub(crate) fn from_raw(raw: RawPromised) -> Self {
        Promised { inner: Inner::Raw(raw) }
    }

    #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
    pub(crate) fn simulated(id: u32, path: String) -> Self {
        Promised {
            inner: Inner::Simulated(id, path),
        }
    }

    #[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
    pub(crate) fn into_raw(self) -> RawPromised {
        match self.inner {
            Inner::Raw(raw) => raw,
        }
    }

    /// The promise's id under `push_guest::testing`.
    #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
    pub(crate) fn into_simulated(self) -> u32 {
        let mut this = std::mem::ManuallyDrop::new(self);
        match &mut this.inner {
            Inner::Simulated(id, path) => {
                std::mem::take(path);
                *id
            }
            Inner::Raw(_) => unreachable!("a host promise pushed in a test"),
        }
    }

    /// The promised path, as the host sent it in the `PUSH_PROMISE`.
    pub fn path(&self) -> String {
        match &self.inner {
            Inner::Raw(raw) => raw.path(),
            #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
            Inner::Simulated(_, path) => path.clone(),
        }
    }

    /// Whether the client has already reset (refused) this promised stream.
    /// [`Caller::push`](crate::Caller::push) would then return
    /// [`Error::Refused`](crate::Error::Refused), so a costly response need
    /// not be built. Never blocks.
    pub fn is_refused(&self) -> bool {
        match &self.inner {
            Inner::Raw(raw) => raw.is_refused(),
            #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
            Inner::Simulated(_, path) => crate::sim::is_refused(path),
        }
    }
}

#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
impl Drop for Promised {
    /// Dropped unanswered: under `push_guest::testing`, the simulated
    /// client's stream is cancelled, as push-host cancels it.
    fn drop(&mut self) {
        if let Inner::Simulated(id, _) = &self.inner {
            crate::sim::dropped(*id);
        }
    }
}
