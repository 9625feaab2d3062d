//! The handler author's tools, run from the command line instead of
//! serving:
//!
//! - [`call`]: `push-host call`, one request through the real sandbox on
//!   an in-memory connection, and the transcript of what a client saw.
//! - [`new`]: `push-host new`, a ready project from a template inside the
//!   binary.
//!
//! - [`cli`]: their flags and entry points for the binary.
//!
//! (`--watch`, which reloads a module as it is rebuilt, is a way of
//! serving: [`crate::tenants::watch`].)

pub mod call;
pub mod cli;
pub mod new;
