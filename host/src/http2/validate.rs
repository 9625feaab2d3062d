//! The rules on what a guest sends (header fields, statuses, promised
//! requests) live in the `push-rules` crate, shared with
//! `push_guest::testing`; re-exported here for the host's modules.

pub use push_rules::fields::*;
