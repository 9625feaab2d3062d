//! [`Caller`]: the handler's connection to the host for one request.

use std::fmt;
use std::marker::PhantomData;

use crate::__private::bindings::push::handler::caller as raw;
use crate::{Error, Promised, PushPromise, Response};

/// The handler's side of one request: send push promises, the main response,
/// and the promised responses.
///
/// Handlers get a `&Caller` in [`Handler::handle`](crate::Handler::handle);
/// it cannot be created otherwise. The usual order, as in HTTP/2 itself, is:
/// [`promise`](Caller::promise) every resource you will push, then
/// [`respond`](Caller::respond), then [`push`](Caller::push) each
/// [`Promised`]. Every call returns at once with the host's verdict; the host
/// keeps the state (e.g. whether the response was sent) and decides what is
/// allowed, so an out-of-order call is an [`Error`], not a panic.
///
/// Only meaningful inside a component run by the host, or natively under
/// [`testing::run`](crate::testing) (feature `testing`): elsewhere the
/// underlying imports are stubs that panic.
pub struct Caller {
    // Neither Send nor Sync: the imports belong to the current call.
    _not_send: PhantomData<*const ()>,
}

impl Caller {
    pub(crate) fn new() -> Self {
        Caller { _not_send: PhantomData }
    }

    /// Sends a `PUSH_PROMISE` for `promise` and reserves its stream.
    ///
    /// Errors: [`Error::PushDisabled`] if the client disabled push,
    /// [`Error::Invalid`] for a malformed promise, [`Error::LimitExceeded`] past
    /// a push limit, [`Error::Closed`] once the response has ended or the
    /// stream is gone.
    pub fn promise(&self, promise: PushPromise) -> Result<Promised, Error> {
        #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
        {
            crate::sim::promise(promise).map(|(id, path)| Promised::simulated(id, path))
        }
        #[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
        {
            raw::promise(&promise.into_raw())
                .map(Promised::from_raw)
                .map_err(Error::from_raw)
        }
    }

    /// Sends the main response to the request.
    ///
    /// Errors: [`Error::AlreadyResponded`] if it was already sent,
    /// [`Error::Invalid`] for a malformed status or header (nothing is sent, so
    /// you may try again), [`Error::Closed`] if the stream or connection is
    /// gone.
    pub fn respond(&self, response: Response) -> Result<(), Error> {
        #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
        {
            crate::sim::respond(response)
        }
        #[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
        {
            raw::respond(&response.into_raw()).map_err(Error::from_raw)
        }
    }

    /// Sends `response` on the promised stream `promised`.
    ///
    /// `promised` is consumed whatever the outcome, and on any error the host
    /// resets the promised stream with CANCEL (so validate a response before
    /// pushing it). Errors: [`Error::Refused`] if the client reset or refused
    /// the promised stream, [`Error::Invalid`] for a malformed status or
    /// header, [`Error::LimitExceeded`] past the
    /// client's concurrent-stream limit, [`Error::Closed`] if the connection is
    /// gone.
    pub fn push(&self, promised: Promised, response: Response) -> Result<(), Error> {
        #[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
        {
            crate::sim::push(promised.into_simulated(), response)
        }
        #[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
        {
            raw::push(promised.into_raw(), &response.into_raw()).map_err(Error::from_raw)
        }
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").finish_non_exhaustive()
    }
}
