//! Run-time limits and settings shared by the runtime and the server.

use std::time::Duration;

/// Every limit the host enforces, with the defaults documented in the README.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deadline for one request's handler; zero disables it (and epoch
    /// interruption with it: for trusted guests and benchmarks only).
    pub timeout: Duration,
    /// Linear memory per instance, in bytes.
    pub memory_bytes: usize,
    /// `promise` calls allowed per request.
    pub max_pushes: u32,
    /// Largest request body read before the handler runs.
    pub max_body_bytes: usize,
    /// Instances that may run at once (and the pooling allocator's size).
    pub max_concurrent: u32,
    /// How long a request waits for a free instance before `503`.
    pub queue_timeout: Duration,
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to each client.
    pub max_streams_per_connection: u32,
    /// Open connections accepted at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// SETTINGS_MAX_HEADER_LIST_SIZE advertised to each client.
    pub max_header_list_size: u32,
    /// Keep the pool's memory and table pages resident between instances
    /// (zeroed with memset) instead of returning them to the kernel; on by
    /// default, off only to measure what it saves.
    pub keep_resident: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(10_000),
            memory_bytes: 64 << 20,
            max_pushes: 32,
            max_body_bytes: 1 << 20,
            max_concurrent: 100,
            queue_timeout: Duration::from_millis(1_000),
            max_streams_per_connection: 100,
            max_connections: 1_024,
            max_header_list_size: 16 << 10,
            keep_resident: true,
        }
    }
}

impl Limits {
    /// Whether requests have a deadline (epoch interruption is on).
    pub fn has_deadline(&self) -> bool {
        !self.timeout.is_zero()
    }
}

/// How often the epoch ticker advances; the deadline is checked at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
