//! The library's error type.

use std::io;

pub use h2::Reason;
use http::StatusCode;

/// Everything that can go wrong talking to a server.
///
/// Each message says what failed and, where one is known, what to try; they
/// are meant to be shown to a person as they are. Match on the variants to
/// react programmatically; [`Error::reason`] gives the HTTP/2 error code
/// where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed or has no host.
    #[error("invalid URL `{url}`: {reason} (expected something like http://127.0.0.1:8080/path)")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The URL's scheme is not one this client speaks.
    #[error(
        "unsupported URL scheme `{scheme}` in `{url}`: push-client speaks HTTP/2, so use an \
         http:// (h2c) or https:// URL"
    )]
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },

    /// The TLS handshake failed (certificate not trusted, name mismatch, no
    /// ALPN `h2`...).
    #[error("TLS: {reason}")]
    Tls {
        /// What went wrong.
        reason: String,
    },

    /// A CA file given to trust could not be used.
    #[error("cannot use CA file {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },

    /// Nothing accepted the TCP connection.
    #[error("connection refused by {addr}: is the server running and listening on that port?")]
    ConnectionRefused {
        /// `host:port` that refused.
        addr: String,
    },

    /// The TCP connection could not be made for another reason (name
    /// resolution, timeout, unreachable network...).
    #[error("could not connect to {addr}: {reason}")]
    Connect {
        /// `host:port` that was tried.
        addr: String,
        /// Why it failed.
        reason: String,
    },

    /// The request could not be sent as given (bad path, bad header...).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong with it.
        reason: String,
    },

    /// The connection broke or was closed before the exchange completed.
    #[error("the connection was closed while {during}: {reason}")]
    ConnectionClosed {
        /// What the client was doing.
        during: String,
        /// The underlying I/O error.
        reason: String,
    },

    /// The server closed the connection with a GOAWAY frame.
    #[error("the server closed the connection (GOAWAY {reason:?}: {reason}) while {during}")]
    GoAway {
        /// What the client was doing.
        during: String,
        /// The error code the server sent.
        reason: Reason,
    },

    /// The server broke the HTTP/2 protocol; the client detected it and
    /// ended the stream or the connection.
    #[error(
        "HTTP/2 protocol error ({reason:?}: {reason}) while {during}; \
         is the server speaking HTTP/2 over cleartext (h2c with prior knowledge)?"
    )]
    Protocol {
        /// What the client was doing.
        during: String,
        /// The error code the client sent.
        reason: Reason,
    },

    /// The server reset the stream (RST_STREAM).
    #[error("the server reset the stream ({reason:?}: {reason}) while {during}")]
    StreamReset {
        /// What the client was doing.
        during: String,
        /// The error code the server sent.
        reason: Reason,
    },

    /// [`Response::error_for_status`](crate::Response::error_for_status)
    /// found a status outside 200-299.
    #[error("the server answered {status} to {request}")]
    Status {
        /// The request, e.g. `GET /path`.
        request: String,
        /// The status it answered.
        status: StatusCode,
    },

    /// [`Response::text`](crate::Response::text) found a body that is not
    /// UTF-8.
    #[error("the response body is not UTF-8 text: {reason}")]
    NotText {
        /// Where decoding failed.
        reason: String,
    },

    /// [`Response::json`](crate::Response::json) could not decode the body.
    #[error("the response body is not the expected JSON: {reason}")]
    Json {
        /// What serde_json reported.
        reason: String,
    },
}

impl Error {
    /// The HTTP/2 error code involved, if any.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Error::GoAway { reason, .. } | Error::Protocol { reason, .. } | Error::StreamReset { reason, .. } => {
                Some(*reason)
            }
            _ => None,
        }
    }

    /// Classifies an `h2` error that happened while `during`.
    pub(crate) fn from_h2(err: h2::Error, during: impl Into<String>) -> Error {
        let during = during.into();
        if let Some(io) = err.get_io() {
            let reason = match io.kind() {
                io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted => {
                    format!("the server closed it ({io})")
                }
                _ => io.to_string(),
            };
            return Error::ConnectionClosed { during, reason };
        }
        match err.reason() {
            Some(reason) if err.is_go_away() && err.is_remote() => Error::GoAway { during, reason },
            Some(reason) if err.is_reset() && err.is_remote() => Error::StreamReset { during, reason },
            Some(reason) => Error::Protocol { during, reason },
            // What remains are misuses `h2` reports before sending anything,
            // e.g. a connection-specific header.
            None => Error::InvalidRequest {
                reason: format!("{err} (while {during})"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_actionable() {
        let e = Error::ConnectionRefused {
            addr: "127.0.0.1:9".into(),
        };
        assert_eq!(
            e.to_string(),
            "connection refused by 127.0.0.1:9: is the server running and listening on that port?"
        );
        let e = Error::UnsupportedScheme {
            url: "ftp://x/".into(),
            scheme: "ftp".into(),
        };
        assert!(e.to_string().contains("use an http:// (h2c) or https:// URL"), "{e}");
        let e = Error::StreamReset {
            during: "waiting for the response to GET /".into(),
            reason: Reason::REFUSED_STREAM,
        };
        assert!(e.to_string().contains("REFUSED_STREAM"), "{e}");
        assert_eq!(e.reason(), Some(Reason::REFUSED_STREAM));
    }
}
