//! The order of calls for one request: what `promise`, `respond` and
//! `push` answer, given what the request has sent so far, in the order the
//! host checks. Checks that need the connection (the stream still open,
//! the push diary, the client's concurrent-stream limit, the client's
//! reset of a promised stream) come after these, and are the host's.

use std::fmt;

use crate::fields::{self, Origin};

/// Why a call was refused: the `error` variant of `push:handler/types`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallError {
    /// The client disabled server push.
    PushDisabled,
    /// The client reset or refused the promised stream, or already has
    /// the path (the push diary).
    Refused,
    /// A malformed status, method, path or header; nothing was sent.
    Invalid(String),
    /// The main response was already sent.
    AlreadyResponded,
    /// The stream or connection is closed, or the response has ended.
    Closed,
    /// A push limit was reached; the string says which.
    LimitExceeded(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::PushDisabled => f.write_str("push-disabled"),
            CallError::Refused => f.write_str("refused"),
            CallError::Invalid(why) => write!(f, "invalid: {why}"),
            CallError::AlreadyResponded => f.write_str("already-responded"),
            CallError::Closed => f.write_str("closed"),
            CallError::LimitExceeded(why) => write!(f, "limit-exceeded: {why}"),
        }
    }
}

/// Past the per-request promise limit (`--max-pushes`).
pub fn max_pushes(limit: u32) -> CallError {
    CallError::LimitExceeded(format!("at most {limit} pushes per request"))
}

/// Past the client's SETTINGS_MAX_CONCURRENT_STREAMS for pushed streams.
pub fn stream_limit(max: usize) -> CallError {
    CallError::LimitExceeded(format!("the client allows {max} concurrent pushed streams"))
}

/// What the rules need to know about the request a call is made for.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    /// `respond` succeeded.
    pub responded: bool,
    /// The main response's body still streams (a 0.3 guest's), so a
    /// promise can still go out before its end.
    pub body_open: bool,
    /// Promises made so far (those announced as early hints count too).
    pub promised: u32,
    /// The per-request promise limit.
    pub max_pushes: u32,
    /// The client takes pushes (an HTTP/2 client with ENABLE_PUSH on).
    pub push_enabled: bool,
}

/// `promise`: the promised request, or why not. `scope` is the host's own
/// check of a valid request (a tenant promises only its own paths). On
/// [`CallError::PushDisabled`] the path may still be announced as an early
/// hint.
pub fn promise(
    parent: &Parent,
    origin: &Origin,
    method: &str,
    path: &str,
    headers: &[(String, Vec<u8>)],
    scope: impl FnOnce() -> Result<(), String>,
) -> Result<http::Request<()>, CallError> {
    if parent.responded && !parent.body_open {
        return Err(CallError::Closed);
    }
    let request = fields::promise(origin, method, path, headers).map_err(CallError::Invalid)?;
    scope().map_err(CallError::Invalid)?;
    if parent.promised >= parent.max_pushes {
        return Err(max_pushes(parent.max_pushes));
    }
    if !parent.push_enabled {
        return Err(CallError::PushDisabled);
    }
    Ok(request)
}

/// `respond`: the response's head, or why not.
pub fn respond(
    responded: bool,
    status: u16,
    headers: &[(String, Vec<u8>)],
    body_len: usize,
) -> Result<http::Response<()>, CallError> {
    if responded {
        return Err(CallError::AlreadyResponded);
    }
    fields::response(status, headers, body_len).map_err(CallError::Invalid)
}

/// `push`: the pushed response's head, or why not (checked before the
/// client's reset of the promised stream, which makes it
/// [`CallError::Refused`]).
pub fn push(status: u16, headers: &[(String, Vec<u8>)], body_len: usize) -> Result<http::Response<()>, CallError> {
    fields::response(status, headers, body_len).map_err(CallError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> Parent {
        Parent {
            responded: false,
            body_open: false,
            promised: 0,
            max_pushes: 2,
            push_enabled: true,
        }
    }

    #[test]
    fn promise_checks_in_order() {
        let origin = Origin::new("http", "a");
        let ok = || Ok(());
        let done = Parent {
            responded: true,
            ..parent()
        };
        // Closed before anything else, even an invalid promise.
        assert_eq!(
            promise(&done, &origin, "POST", "/x", &[], ok).err(),
            Some(CallError::Closed)
        );
        let streaming = Parent {
            body_open: true,
            ..done
        };
        assert!(promise(&streaming, &origin, "GET", "/x", &[], ok).is_ok());
        // Invalid before the limit, the limit before push-disabled.
        let full = Parent {
            promised: 2,
            push_enabled: false,
            ..parent()
        };
        assert!(matches!(
            promise(&full, &origin, "POST", "/x", &[], ok),
            Err(CallError::Invalid(_))
        ));
        assert_eq!(promise(&full, &origin, "GET", "/x", &[], ok).err(), Some(max_pushes(2)));
        let off = Parent {
            push_enabled: false,
            ..parent()
        };
        assert_eq!(
            promise(&off, &origin, "GET", "/x", &[], ok).err(),
            Some(CallError::PushDisabled)
        );
        let scoped = promise(&parent(), &origin, "GET", "/x", &[], || Err("not yours".into()));
        assert_eq!(scoped.err(), Some(CallError::Invalid("not yours".into())));
    }

    #[test]
    fn respond_once_then_already_responded() {
        assert!(respond(false, 200, &[], 0).is_ok());
        assert_eq!(respond(true, 200, &[], 0).err(), Some(CallError::AlreadyResponded));
        assert!(matches!(respond(false, 99, &[], 0), Err(CallError::Invalid(_))));
        assert!(matches!(push(700, &[], 0), Err(CallError::Invalid(_))));
    }
}
