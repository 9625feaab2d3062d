//! What one request did ([`Report`]): filled in by the caller interface and
//! the runtime, read by the request's log line and the metrics.

use std::sync::Arc;

use crate::metrics::TenantMetrics;

/// What one request did, for its log line and the metrics.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The tenant that ran it (`default` for `--module`), with its
    /// metrics; `None` if no tenant did (no route).
    pub tenant: Option<Arc<TenantMetrics>>,
    /// The status of the main response the guest sent, if it did.
    pub status: Option<u16>,
    /// PUSH_PROMISE frames sent.
    pub promised: u32,
    /// Promised responses pushed.
    pub pushed: u32,
    /// Promises refused: by the client (reset) or by the push diary.
    pub refused: u32,
    /// Promises announced as early hints or `link` headers instead.
    pub hinted: u32,
    /// Time to create the instance.
    pub instantiate: Option<std::time::Duration>,
    /// Time in the guest's `handle`.
    pub handle: Option<std::time::Duration>,
}

impl Report {
    /// The tenant's name, or `""`.
    pub fn tenant_name(&self) -> &str {
        self.tenant.as_ref().map_or("", |t| &t.name)
    }
}
