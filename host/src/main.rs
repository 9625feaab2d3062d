//! The `push-host` binary: parse flags, load the component, serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};
use push_host::author::cli::{self, Command};
use push_host::config::Grants;
use push_host::ops::metrics::Metrics;
use push_host::runtime::DEFAULT_TENANT;
use push_host::runtime::cache::CompileCache;
use push_host::server::listen;
use push_host::tenants::watch::WatchedModule;
use push_host::{Hosting, Limits, NativeSeed, Pool, Runtime, Sandbox, ServeOptions};
use tokio_util::sync::CancellationToken;

/// mimalloc instead of glibc's malloc: the request path allocates many small,
/// short-lived objects (h2 frames, headers, wasmtime store parts), and glibc
/// spent 8–11% of the server's CPU on them (see bench/results).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serve a WebAssembly component (world `push:handler/service`) over HTTP/2
/// with server push.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<cli::Command>,
    /// The handler component (.wasm, built for wasm32-wasip2).
    #[arg(
        long,
        required_unless_present_any = ["native_seed", "config"],
        conflicts_with_all = ["native_seed", "config"]
    )]
    module: Option<PathBuf>,
    /// Reload the module when its file changes (or on SIGHUP): the old
    /// version serves until the new one has loaded; one that does not load
    /// is not installed, and the log says why.
    #[arg(long)]
    watch: bool,
    /// Serve many tenants from a hosting file (TOML: listen, [defaults],
    /// [[tenant]] with module, routes, limits, env); see the README.
    #[arg(long, conflicts_with = "native_seed")]
    config: Option<PathBuf>,
    /// Keep compiled components here, so a restart does not compile again
    /// (default: push-host under the user's cache directory, e.g.
    /// ~/.cache/push-host).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile every component at start-up, without the compile cache.
    #[arg(long)]
    no_cache: bool,
    /// Serve /metrics (Prometheus), /healthz and /readyz here (plain
    /// HTTP/1.1; keep it on loopback or a private network).
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// /metrics then needs `authorization: Bearer TOKEN`, TOKEN being this
    /// file's one line (/healthz and /readyz stay open for probes);
    /// `admin_token_file` in the hosting file. Needed when --admin-listen
    /// is not a loopback address.
    #[arg(long, value_name = "PATH")]
    admin_token_file: Option<PathBuf>,
    /// Serve /metrics on a non-loopback --admin-listen without a token.
    #[arg(long)]
    admin_insecure: bool,
    /// Log lines as text (default) or one JSON object per line.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Check the hosting file (or the module) and every component it names,
    /// print what would be served, and exit without serving.
    #[arg(long)]
    check: bool,
    /// Benchmarks only: serve the seed service compiled into the host
    /// instead of a component (same checks and h2 path, no wasm), to measure
    /// what the sandbox costs.
    #[arg(long)]
    native_seed: bool,
    /// Address to listen on (h2c with prior knowledge, or TLS with
    /// `--tls-cert`/`--tls-key`); port 0 picks a free port. Default
    /// 127.0.0.1:7090, or the hosting file's `listen`. Not needed with
    /// systemd socket activation (LISTEN_FDS): the socket passed is served.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Set SO_REUSEPORT on the listening socket: a new push-host can listen
    /// on the same address while this one drains (see README, upgrades).
    #[arg(long)]
    reuse_port: bool,
    /// Serve TLS with this certificate chain (PEM, leaf first); ALPN `h2`.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Deadline per request, in milliseconds (504 past it); 0 turns the
    /// deadline and epoch interruption off (trusted guests, benchmarks).
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Linear memory per instance, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mb: usize,
    /// The linear memory of all live instances together, in MiB; a growth
    /// past it fails as one past --memory-mb does. Default: half the
    /// machine's memory.
    #[arg(long)]
    memory_budget_mb: Option<usize>,
    /// `promise` calls allowed per request.
    #[arg(long, default_value_t = 32)]
    max_pushes: u32,
    /// Largest request body, in bytes (413 past it).
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Instances running at once (the pool's size); more requests queue.
    #[arg(long, default_value_t = 100)]
    max_concurrent: u32,
    /// How long a queued request waits for an instance before 503, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    queue_timeout_ms: u64,
    /// Requests one instance may serve one after another (1: a fresh
    /// instance per request). For trusted code: the guest's memory and
    /// globals carry over from one request to the next (README, "Instance
    /// reuse"). An instance that traps, times out or hits a memory limit is
    /// never used again; one idle for 5 s is dropped.
    #[arg(long, default_value_t = 1)]
    instance_reuse: u32,
    /// Requests one `wasi:http@0.3` instance may serve at once (1: one at a
    /// time). For trusted code, as --instance-reuse; an instance then takes
    /// at most the larger of the two in all. A trap or a deadline stops
    /// every request the instance is serving (README, "Instance reuse").
    #[arg(long, default_value_t = 1)]
    instance_concurrency: u32,
    /// Concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, default_value_t = 100)]
    max_streams: u32,
    /// Connections open at once.
    #[arg(long, default_value_t = 1_024)]
    max_connections: usize,
    /// Seconds from TCP accept to the end of the TLS handshake and the
    /// client's HTTP/2 preface; past it the socket is closed.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    handshake_timeout_s: f64,
    /// Seconds a connection may sit with no open stream before GOAWAY and
    /// close; 0 keeps idle connections.
    #[arg(long, default_value_t = 60.0, value_parser = seconds)]
    idle_timeout_s: f64,
    /// Seconds between keepalive PINGs; a connection that has not answered
    /// one by the next is closed. 0 disables them.
    #[arg(long, default_value_t = 30.0, value_parser = seconds)]
    keepalive_s: f64,
    /// Paths remembered per connection (pushed, or requested by the
    /// client) that are not pushed again (`promise` returns `refused`);
    /// 0 turns the push diary off.
    #[arg(long, default_value_t = 256)]
    push_diary: usize,
    /// When a client disables push, announce the paths a handler promises
    /// in a `103 Early Hints` response and as `link` headers.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    early_hints: String,
    /// Push the same-origin `link: <...>; rel=preload` targets of a
    /// `wasi:http` component's responses, each filled by running the
    /// component again for a GET of that path.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    link_push: String,
    /// Serve HTTP/1.1 as well as HTTP/2 (cleartext clients whose first bytes
    /// are not the HTTP/2 preface; ALPN `http/1.1` with TLS). `off`: an
    /// h2c/h2-only port, where an invalid preface gets GOAWAY(PROTOCOL_ERROR)
    /// (e.g. behind a proxy that terminates TLS and speaks h2c).
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    http1: String,
    /// Where a `wasi:http` component may send outgoing requests
    /// (`https://api.example.com`, `http://127.0.0.1:8080`,
    /// `https://*.example.com`); repeatable. None by default: every
    /// outgoing request is denied. (With --config: the tenant's
    /// `allowed_outbound_hosts`.)
    #[arg(long = "allow-outbound-host", value_name = "URL", value_parser = parse_allowed_host)]
    allowed_outbound_hosts: Vec<push_host::config::AllowedHost>,
    /// On SIGTERM or SIGINT, seconds to let requests in flight (and their
    /// pushes) finish before closing what is left.
    #[arg(long, default_value_t = 30.0, value_parser = seconds)]
    shutdown_timeout_s: f64,
}

/// Parses one `--allow-outbound-host`.
fn parse_allowed_host(s: &str) -> Result<push_host::config::AllowedHost, String> {
    push_host::config::AllowedHost::parse(s)
}

/// Parses a non-negative, finite number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds (0 or more)")),
    }
}

impl Args {
    fn limits(&self) -> anyhow::Result<Limits> {
        anyhow::ensure!(self.max_concurrent > 0, "--max-concurrent must be at least 1");
        anyhow::ensure!(self.memory_mb > 0, "--memory-mb must be at least 1");
        anyhow::ensure!(self.instance_reuse > 0, "--instance-reuse must be at least 1");
        anyhow::ensure!(
            self.instance_concurrency > 0,
            "--instance-concurrency must be at least 1"
        );
        Ok(Limits {
            timeout: Duration::from_millis(self.timeout_ms),
            memory_bytes: self.memory_mb << 20,
            max_pushes: self.max_pushes,
            max_body_bytes: self.max_body_bytes,
            max_concurrent: self.max_concurrent,
            queue_timeout: Duration::from_millis(self.queue_timeout_ms),
            max_streams_per_connection: self.max_streams,
            max_connections: self.max_connections.max(1),
            handshake_timeout: Duration::from_secs_f64(self.handshake_timeout_s),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout_s),
            keepalive: Duration::from_secs_f64(self.keepalive_s),
            push_diary: self.push_diary,
            early_hints: self.early_hints == "on",
            link_push: self.link_push == "on",
            http1: self.http1 == "on",
            memory_budget: self.memory_budget_mb.map(|mb| mb << 20),
            instance_reuse: self.instance_reuse,
            instance_concurrency: self.instance_concurrency,
            ..Limits::default()
        })
    }
}

/// Scheduler ticks (task polls) between the IO-driver polls a busy worker
/// makes; tokio's default is 61. A driver poll also runs the deferred
/// wake-ups that flush each connection's buffered writes (`coalesce.rs`),
/// so polling it less often while tasks are ready means fewer, larger
/// writes and fewer `epoll_wait`s. An idle worker still polls at once, and a
/// guest that runs long yields with a deferred wake-up, so it cannot keep
/// the driver waiting. `bench/ab.py`, 3 rounds, 61 → 1000: wasm seed 34.0 →
/// 31.2 µs CPU/request (p99 4.7 → 3.0 ms), native 14.8 → 14.0 (p99 2.0 →
/// 1.3 ms); per request `sendto` 0.27 → 0.22 and `write` 0.32 → 0.07.
const EVENT_INTERVAL: u32 = 1000;

fn main() {
    // Before any thread starts: it takes LISTEN_FDS/LISTEN_PID out of the
    // environment.
    let inherited = match push_host::server::listen::inherited() {
        Ok(inherited) => inherited,
        Err(e) => {
            eprintln!("push-host: {e}");
            std::process::exit(1);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .event_interval(EVENT_INTERVAL)
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(inherited)),
        Err(e) => Err(anyhow::Error::new(e).context("cannot start the tokio runtime")),
    };
    if let Err(e) = result {
        eprintln!("push-host: {e:#}");
        std::process::exit(1);
    }
}

/// The limit flags: with `--config` their values come from `[defaults]`.
const LIMIT_FLAGS: &[&str] = &[
    "timeout_ms",
    "memory_mb",
    "memory_budget_mb",
    "max_pushes",
    "max_body_bytes",
    "max_concurrent",
    "queue_timeout_ms",
    "instance_reuse",
    "instance_concurrency",
    "max_streams",
    "max_connections",
    "handshake_timeout_s",
    "idle_timeout_s",
    "keepalive_s",
    "push_diary",
    "early_hints",
    "link_push",
    "http1",
    "allowed_outbound_hosts",
    "shutdown_timeout_s",
];

async fn run(inherited: Option<std::net::TcpListener>) -> anyhow::Result<()> {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches)?;
    match &args.command {
        Some(Command::New(new)) => return Ok(cli::new_project(new)?),
        Some(Command::Call(call)) => std::process::exit(cli::call_once(call).await),
        None => {}
    }
    if args.config.is_some()
        && let Some(flag) = LIMIT_FLAGS
            .iter()
            .find(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
    {
        anyhow::bail!(
            "--{} cannot be combined with --config: set `{flag}` in the hosting file's [defaults]",
            flag.replace('_', "-")
        );
    }
    // The log goes to stderr from its own thread, through a buffer flushed
    // whenever no line is waiting: under load many lines share one write, and
    // no request waits for the terminal. Lines are never dropped (a full
    // queue makes the logging thread wait instead); `_log` flushes on exit.
    let (log_writer, _log) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::with_capacity(64 << 10, std::io::stderr()));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(log_writer);
    if args.log_format == "json" {
        logs.json().init();
    } else {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if terminal {
            logs.with_ansi(std::env::var_os("NO_COLOR").is_none()).init();
        } else {
            // Same layout, less CPU per line (see `logfmt`).
            logs.with_ansi(false)
                .event_format(push_host::ops::logfmt::LineFormat)
                .init();
        }
    }
    anyhow::ensure!(
        !args.watch || args.module.is_some(),
        "--watch needs --module (a hosting file given with --config is watched already)"
    );
    let limits = args.limits()?;
    let hosting = match &args.config {
        Some(path) => Some(push_host::tenants::config::load(path)?),
        None => None,
    };
    let tls_files = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => hosting.as_ref().and_then(|h| h.tls.clone()),
    };
    let tls = match &tls_files {
        Some((cert, key)) => Some(push_host::server::tls::load(cert, key)?),
        None => None,
    };
    let admin_token = match args
        .admin_token_file
        .clone()
        .or_else(|| hosting.as_ref().and_then(|h| h.admin_token_file.clone()))
    {
        Some(path) => Some(Arc::new(push_host::ops::token::AdminToken::read(&path)?)),
        None => None,
    };
    if let Some(admin) = args.admin_listen {
        push_host::ops::token::check_exposure(admin, admin_token.is_some(), args.admin_insecure)
            .map_err(anyhow::Error::msg)?;
    }
    let cache = match (&args.cache_dir, args.no_cache) {
        (_, true) => CompileCache::off(),
        (Some(dir), false) => CompileCache::at(dir.clone()),
        (None, false) => CompileCache::default_dir().map_or_else(CompileCache::off, CompileCache::at),
    };
    let metrics = Arc::new(Metrics::default());
    // The line scripts wait for; with `--log-format json` a JSON line too,
    // so every line of that log is one object.
    let announce = |line: String| {
        if args.log_format == "json" {
            tracing::info!("{line}");
        } else {
            eprintln!("{line}");
        }
    };
    // The admin endpoints answer while the components load (a cold compile
    // takes seconds): `/healthz` 200, `/readyz` 503 until `ready`.
    let shutdown = shutdown_on_signal()?;
    let ready = CancellationToken::new();
    if let Some(admin) = args.admin_listen.filter(|_| !args.check) {
        let admin = listen::bind(admin, false).with_context(|| format!("cannot listen on {admin} (--admin-listen)"))?;
        announce(format!(
            "Admin endpoints on http://{}/",
            admin.local_addr().context("admin address")?
        ));
        tokio::spawn(push_host::ops::admin::serve_admin(
            admin,
            metrics.clone(),
            ready.clone(),
            shutdown.clone(),
            admin_token,
        ));
    }
    let loaded = match (&args.module, &hosting) {
        (Some(module), _) if args.watch && !args.check => {
            let grants = Grants {
                env: Vec::new(),
                allowed_outbound_hosts: args.allowed_outbound_hosts.clone(),
            };
            let watched = WatchedModule::load(module.clone(), limits, grants, cache, metrics.clone()).await?;
            watched.spawn_reloads()?;
            Loaded::Watched(watched)
        }
        (Some(module), _) => {
            let sandbox = Sandbox::new(&Pool::for_limits(&limits), cache, metrics.clone())?;
            let grants = Grants {
                env: Vec::new(),
                allowed_outbound_hosts: args.allowed_outbound_hosts.clone(),
            };
            Loaded::Wasm(Runtime::load_into(&sandbox, DEFAULT_TENANT, module, limits, grants).await?)
        }
        (None, Some(config)) => {
            let hosting = Hosting::load(config, cache, metrics.clone()).await?;
            if !args.check {
                let path = args.config.clone().expect("--config");
                push_host::tenants::reload::spawn(hosting.clone(), path, config)?;
            }
            Loaded::Hosting(hosting)
        }
        (None, None) => {
            tracing::warn!(
                "--native-seed: serving the seed service compiled into the host, no sandbox (benchmarks only)"
            );
            Loaded::Native(NativeSeed::new(limits, &metrics))
        }
    };
    if args.check {
        let what = match (&loaded, &args.config) {
            (Loaded::Hosting(h), Some(path)) => format!("{}: OK: tenants {}", path.display(), h.names().join(", ")),
            _ => "OK".to_string(),
        };
        println!("{what}");
        return Ok(());
    }
    let listen_on = args
        .listen
        .or(hosting.as_ref().and_then(|h| h.listen))
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7090)));
    let listener = match inherited {
        Some(socket) => {
            if let Some(listen) = args.listen {
                tracing::warn!("--listen {listen} ignored: serving the socket systemd passed (LISTEN_FDS)");
            }
            tokio::net::TcpListener::from_std(socket).context("the socket systemd passed (LISTEN_FDS)")?
        }
        None => listen::bind(listen_on, args.reuse_port).with_context(|| format!("cannot listen on {listen_on}"))?,
    };
    let addr = listener.local_addr().context("listening address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    announce(format!("Serving HTTP/2 on {scheme}://{addr}/"));
    ready.cancel();
    let options = ServeOptions {
        tls,
        metrics,
        shutdown,
        shutdown_timeout: hosting
            .as_ref()
            .and_then(|h| h.shutdown_timeout)
            .unwrap_or(Duration::from_secs_f64(args.shutdown_timeout_s)),
    };
    match loaded {
        Loaded::Wasm(runtime) => push_host::serve(listener, runtime, options).await,
        Loaded::Native(native) => push_host::serve(listener, native, options).await,
        Loaded::Hosting(hosting) => push_host::serve(listener, hosting, options).await,
        Loaded::Watched(watched) => push_host::serve(listener, watched, options).await,
    };
    Ok(())
}

/// A token cancelled by the first SIGTERM or SIGINT.
fn shutdown_on_signal() -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let token = CancellationToken::new();
    let mut term = signal(SignalKind::terminate()).context("install the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("install the SIGINT handler")?;
    let cancel = token.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!("{name} received: shutting down");
        cancel.cancel();
    });
    Ok(token)
}

/// The handler chosen on the command line.
enum Loaded {
    Wasm(Arc<Runtime>),
    Native(Arc<NativeSeed>),
    Hosting(Arc<Hosting>),
    Watched(Arc<WatchedModule>),
}
