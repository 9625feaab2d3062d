//! [`Error`]: why a call on [`Caller`](crate::Caller) failed.

use std::fmt;

use crate::__private::bindings::push::handler::types::Error as RawError;

/// Why the host refused a [`Caller`](crate::Caller) operation.
///
/// Mirrors the `error` variant of the `push:handler/types` WIT interface one to
/// one. [`Display`](fmt::Display) starts with the WIT case name (for example
/// `already-responded: ...` or `invalid: ...`), so logs read the same on both
/// sides of the component boundary; [`Debug`](fmt::Debug) prints the Rust
/// variant (for example `AlreadyResponded`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The client disabled server push (`SETTINGS_ENABLE_PUSH = 0`).
    PushDisabled,
    /// The client reset or refused the promised stream.
    Refused,
    /// A malformed status, method, path or header; nothing was sent. The
    /// string says what was wrong.
    Invalid(String),
    /// The main response was already sent.
    AlreadyResponded,
    /// The stream or connection is closed, or the response has ended.
    Closed,
    /// A push limit was reached (per request, or the client's
    /// concurrent-stream limit). The string says which.
    LimitExceeded(String),
}

impl Error {
    /// The WIT name of this error's case, e.g. `"already-responded"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::PushDisabled => "push-disabled",
            Error::Refused => "refused",
            Error::Invalid(_) => "invalid",
            Error::AlreadyResponded => "already-responded",
            Error::Closed => "closed",
            Error::LimitExceeded(_) => "limit-exceeded",
        }
    }

    pub(crate) fn from_raw(raw: RawError) -> Self {
        match raw {
            RawError::PushDisabled => Error::PushDisabled,
            RawError::Refused => Error::Refused,
            RawError::Invalid(msg) => Error::Invalid(msg),
            RawError::AlreadyResponded => Error::AlreadyResponded,
            RawError::Closed => Error::Closed,
            RawError::LimitExceeded(msg) => Error::LimitExceeded(msg),
        }
    }
}

#[cfg(feature = "testing")]
impl From<push_rules::calls::CallError> for Error {
    fn from(e: push_rules::calls::CallError) -> Error {
        use push_rules::calls::CallError;
        match e {
            CallError::PushDisabled => Error::PushDisabled,
            CallError::Refused => Error::Refused,
            CallError::Invalid(why) => Error::Invalid(why),
            CallError::AlreadyResponded => Error::AlreadyResponded,
            CallError::Closed => Error::Closed,
            CallError::LimitExceeded(why) => Error::LimitExceeded(why),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match self {
            Error::PushDisabled => write!(f, "{kind}: the client disabled server push"),
            Error::Refused => write!(f, "{kind}: the client reset or refused the promised stream"),
            Error::Invalid(msg) => write!(f, "{kind}: {msg}"),
            Error::AlreadyResponded => write!(f, "{kind}: the main response was already sent"),
            Error::Closed => write!(f, "{kind}: the stream or connection is closed"),
            Error::LimitExceeded(msg) => write!(f, "{kind}: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_the_wit_case_name() {
        assert_eq!(
            Error::AlreadyResponded.to_string(),
            "already-responded: the main response was already sent"
        );
        assert_eq!(Error::Invalid("status 99".into()).to_string(), "invalid: status 99");
        assert_eq!(
            Error::LimitExceeded("8 pushes".into()).to_string(),
            "limit-exceeded: 8 pushes"
        );
        assert_eq!(format!("{:?}", Error::Closed), "Closed");
    }

    #[test]
    fn from_raw_maps_every_case() {
        let cases = [
            (RawError::PushDisabled, Error::PushDisabled),
            (RawError::Refused, Error::Refused),
            (RawError::Invalid("x".into()), Error::Invalid("x".into())),
            (RawError::AlreadyResponded, Error::AlreadyResponded),
            (RawError::Closed, Error::Closed),
            (RawError::LimitExceeded("y".into()), Error::LimitExceeded("y".into())),
        ];
        for (raw, want) in cases {
            assert_eq!(Error::from_raw(raw), want);
        }
    }
}
