//! Run-time limits and settings shared by the runtime and the server
//! (this file), and `allowed_host.rs`: one entry of a tenant's
//! `allowed_outbound_hosts`.

mod allowed_host;

pub use allowed_host::AllowedHost;

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
    /// Time from TCP accept to a complete TLS handshake (with `--tls-*`)
    /// and the client's HTTP/2 preface; past it the socket is closed.
    pub handshake_timeout: Duration,
    /// A connection with no open stream for this long gets GOAWAY and is
    /// closed; zero keeps idle connections open.
    pub idle_timeout: Duration,
    /// A PING every this often on each connection; a connection whose PONG
    /// has not come back by the next one is closed. Zero disables it.
    pub keepalive: Duration,
    /// Paths remembered per connection (pushed, or requested by the
    /// client) that are not pushed again; zero turns the diary off.
    pub push_diary: usize,
    /// When the client disables push, announce promised paths in a
    /// `103 Early Hints` response and as `link` headers on the final one.
    pub early_hints: bool,
    /// Push the same-origin `link: <...>; rel=preload` targets of a
    /// `wasi:http` component's responses (when the client accepts pushes).
    pub link_push: bool,
    /// Serve HTTP/1.1 too: on cleartext, a client whose first bytes are not
    /// the HTTP/2 preface; with TLS, ALPN `http/1.1`. Off, the port speaks
    /// only HTTP/2 and an invalid preface gets GOAWAY(PROTOCOL_ERROR).
    pub http1: bool,
    /// The linear memory of all live instances of the process together
    /// (`None`: half the machine's memory, see [`crate::runtime::budget`]).
    pub memory_budget: Option<usize>,
    /// A tenant's share of it: its live instances together (`None`: no
    /// share of its own).
    pub memory_share: Option<usize>,
    /// Requests one instance may serve one after another before it is
    /// dropped (`--instance-reuse`, `instance_reuse`); 1, the default, is a
    /// fresh instance per request.
    pub instance_reuse: u32,
    /// Requests one `wasi:http@0.3` instance may serve at once
    /// (`--instance-concurrency`, `instance_concurrency`); 1, the default,
    /// is one at a time. Above 1 an instance takes at most
    /// `max(instance_reuse, instance_concurrency)` requests in all.
    pub instance_concurrency: u32,
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
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            keepalive: Duration::from_secs(30),
            push_diary: 256,
            early_hints: true,
            link_push: true,
            http1: true,
            memory_budget: None,
            memory_share: None,
            instance_reuse: 1,
            instance_concurrency: 1,
        }
    }
}

impl Limits {
    /// Whether requests have a deadline (epoch interruption is on).
    pub fn has_deadline(&self) -> bool {
        !self.timeout.is_zero()
    }
}

/// What a component may reach beyond its sandbox: its tenant's grants.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// The only environment variables its guests see.
    pub env: Vec<(String, String)>,
    /// Where its `wasi:http` outgoing requests may go (none by default).
    pub allowed_outbound_hosts: Vec<AllowedHost>,
}

/// How often the epoch ticker advances; the deadline is checked at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The `h2` settings the host sets on every connection (besides the limits
/// above). Each is documented in the README's "Limits" table.
pub mod h2_settings {
    /// SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send
    /// on one stream before the host reads them (bodies are read at once,
    /// up to `max_body_bytes`). h2's default is 65,535.
    pub const INITIAL_WINDOW_SIZE: u32 = 256 << 10;
    /// The connection-level receive window, for all streams together.
    pub const INITIAL_CONNECTION_WINDOW_SIZE: u32 = 1 << 20;
    /// Response bytes `h2` buffers per stream before `send_data` waits for
    /// the client's window (h2's default, stated).
    pub const MAX_SEND_BUFFER_SIZE: usize = 400 << 10;
    /// Streams the client may open and reset before the host accepted them
    /// (the "rapid reset" bound, CVE-2023-44487); more is a GOAWAY.
    pub const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
    /// Streams the host may reset because of the client's protocol errors
    /// before it ends the connection (CVE-2024-2758's bound).
    pub const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;
}
