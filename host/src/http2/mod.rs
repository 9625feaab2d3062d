//! The HTTP/2 plumbing below the handler API: what `h2` does not do for a
//! push server, and what every response goes through.
//!
//! - `conn.rs`: per-connection state shared by its requests: the client's
//!   stream limit, push slots, promise ordering, reset naming, requests
//!   running (for the idle timeout); `diary.rs`: the paths the client
//!   already has (not pushed again).
//! - `sniff.rs`: a byte tap below `h2` that sees RST_STREAM and
//!   SETTINGS_ENABLE_PUSH (read) and PUSH_PROMISE/HEADERS (write) frames,
//!   and holds back a client reset `h2` would mishandle.
//! - `coalesce.rs`: a write buffer below the tap, flushed once tokio has
//!   polled its IO driver, so many requests' frames share a write.
//! - `body.rs`: bodies sent under flow control; `request_body.rs`: a request
//!   body streamed to a guest; `responder.rs`: where a main response goes
//!   (an `h2` stream, or hyper's reply for HTTP/1.1).
//! - `hints.rs`: `103 Early Hints` and `link` headers for promises made
//!   while the client has push off; `validate.rs`: status, header, method
//!   and path rules.

pub mod body;
pub mod coalesce;
pub mod conn;
pub mod diary;
pub mod hints;
pub(crate) mod request_body;
pub mod responder;
pub mod sniff;
pub mod validate;
