//! What operators see: Prometheus metrics and what one request did
//! (`metrics.rs`, its `Report` feeds the request's log line), the
//! `--admin-listen` endpoints (`admin.rs`: `/metrics`, `/healthz`,
//! `/readyz`; `token.rs`: who may read `/metrics`), and the log's text format (`logfmt.rs`: the default tracing
//! layout at less CPU per line).

pub mod admin;
pub mod logfmt;
pub mod metrics;
pub mod token;
