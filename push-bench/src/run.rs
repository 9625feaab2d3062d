//! The run: the runtime, the connections, the c×m slot tasks, the window's
//! timing and the server's CPU readings at its edges.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::args::Config;
use crate::conn::{self, ConnParams, Shared};
use crate::stats::{RunInfo, SlotStats, Summary, Window, process_cpu};
use crate::validate::{BodyStore, ErrorKind, Failure};

/// How long in-flight requests may take to finish after the window closes.
const GRACE: Duration = Duration::from_secs(10);

/// Builds the runtime (`-t 1`: everything on this thread) and runs.
pub fn run(config: &Config) -> anyhow::Result<Summary> {
    let runtime = if config.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads)
            .enable_all()
            .build()?
    };
    Ok(runtime.block_on(run_async(config)))
}

fn server_cpu(pid: Option<u32>) -> Option<Duration> {
    let pid = pid?;
    match process_cpu(pid) {
        Ok(cpu) => Some(cpu),
        Err(e) => {
            eprintln!("push-bench: {e}");
            None
        }
    }
}

async fn run_async(config: &Config) -> Summary {
    let params = ConnParams {
        streams: config.streams,
        pushes: config.pushes,
        push: !config.no_push,
    };
    let mut merged = SlotStats::new();
    let mut senders = Vec::with_capacity(config.connections);
    let mut connecting = JoinSet::new();
    for _ in 0..config.connections {
        let url = config.url.clone();
        connecting.spawn(async move { conn::connect(&url, params).await });
    }
    while let Some(joined) = connecting.join_next().await {
        match joined.expect("connect task panicked") {
            Ok(send) => senders.push(conn::Link::new(config.url.clone(), params, send)),
            Err(failure) => merged.error(failure),
        }
    }

    let begin = Instant::now();
    let start = begin + config.warmup;
    let shared = Arc::new(Shared {
        window: Window::new(start, config.limit),
        closed: Notify::new(),
        bodies: BodyStore::default(),
        url: config.url.clone(),
        path: config.url.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        pushes: config.pushes,
        pacer: config.rate.map(conn::Pacer::new),
    });
    let mut slots = JoinSet::new();
    for send in &senders {
        for _ in 0..config.streams {
            slots.spawn(conn::run_slot(send.clone(), shared.clone()));
        }
    }
    drop(senders);

    let window = &shared.window;
    let warmup = sleep_until(start.into());
    tokio::pin!(warmup);
    let close = async {
        match window.deadline() {
            Some(deadline) => sleep_until(deadline.into()).await,
            None => shared.closed.notified().await,
        }
    };
    tokio::pin!(close);
    let mut started = config.warmup.is_zero();
    let mut cpu_start = if started { server_cpu(config.server_pid) } else { None };
    let mut end: Option<(Instant, Option<Duration>)> = None;
    loop {
        let grace = sleep_until(end.map_or(start + GRACE, |(t, _)| t + GRACE).into());
        tokio::select! {
            joined = slots.join_next() => match joined {
                Some(joined) => merged.merge(joined.expect("slot task panicked")),
                None => break,
            },
            () = &mut warmup, if !started => {
                started = true;
                cpu_start = server_cpu(config.server_pid);
            }
            () = &mut close, if started && end.is_none() => {
                window.stop();
                let at = window.reached().or(window.deadline()).unwrap_or_else(Instant::now);
                end = Some((at, server_cpu(config.server_pid)));
            }
            () = grace, if end.is_some() => {
                let stalled = slots.len();
                slots.abort_all();
                for _ in 0..stalled {
                    merged.error(Failure::new(
                        ErrorKind::Stalled,
                        format!("request still in flight {}s after the end", GRACE.as_secs()),
                    ));
                }
                break;
            }
        }
    }
    // Every slot stopped before the window closed (connections failed).
    let (end, cpu_end) = end.unwrap_or_else(|| (Instant::now(), server_cpu(config.server_pid)));

    let duration = if started {
        end.saturating_duration_since(start)
    } else {
        Duration::ZERO
    };
    let server_cpu = match (cpu_start, cpu_end) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let info = RunInfo {
        url: config.url.to_string(),
        duration,
        server_cpu,
        connections: config.connections,
        streams_per_connection: config.streams,
        pushes_per_request: config.pushes,
        threads: config.threads,
        warmup: config.warmup,
    };
    Summary::new(&merged, &info)
}
