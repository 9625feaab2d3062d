//! Counting: the measured window, per-slot statistics, their merge into a
//! [`Summary`], and the server's CPU time from `/proc/PID/stat`.
//!
//! Every stream slot keeps its own [`SlotStats`] (no sharing on the hot
//! path); the only shared state a completion touches is the [`Window`]'s
//! counter in `-n` mode.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::args::Limit;
use crate::validate::{ErrorKind, Failure};

/// Messages kept per slot (the report prints the first few overall).
const MESSAGES_PER_SLOT: usize = 3;
/// Largest latency recorded (longer ones are clamped): one hour, in µs.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// The measured window: it opens after the warm-up and closes after the
/// duration (`-d`) or at the N-th completion (`-n`).
#[derive(Debug)]
pub struct Window {
    start: Instant,
    limit: Limit,
    /// Completions inside the window (`-n` mode).
    counted: AtomicU64,
    /// When the N-th completion happened (`-n` mode).
    reached: OnceLock<Instant>,
    /// Set when no new requests should be sent.
    stop: AtomicBool,
}

/// Whether a completion counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Completed during the warm-up.
    Warmup,
    /// Inside the window; `last` is true for the completion that closes it.
    Counted { last: bool },
    /// After the window closed.
    After,
}

impl Window {
    pub fn new(start: Instant, limit: Limit) -> Window {
        Window {
            start,
            limit,
            counted: AtomicU64::new(0),
            reached: OnceLock::new(),
            stop: AtomicBool::new(false),
        }
    }

    /// The end of the window in `-d` mode.
    pub fn deadline(&self) -> Option<Instant> {
        match self.limit {
            Limit::Duration(d) => Some(self.start + d),
            Limit::Requests(_) => None,
        }
    }

    /// When the N-th request completed (`-n` mode, once reached).
    pub fn reached(&self) -> Option<Instant> {
        self.reached.get().copied()
    }

    /// Decides whether a request completing at `at` counts.
    pub fn admit(&self, at: Instant) -> Admit {
        if at < self.start {
            return Admit::Warmup;
        }
        match self.limit {
            Limit::Duration(d) => {
                if at <= self.start + d {
                    Admit::Counted { last: false }
                } else {
                    Admit::After
                }
            }
            Limit::Requests(n) => {
                let k = self.counted.fetch_add(1, Ordering::Relaxed);
                if k < n {
                    let last = k + 1 == n;
                    if last {
                        let _ = self.reached.set(at);
                        self.stop();
                    }
                    Admit::Counted { last }
                } else {
                    Admit::After
                }
            }
        }
    }

    /// Whether a slot should send another request at `now`.
    pub fn open(&self, now: Instant) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        match self.limit {
            Limit::Duration(d) => now < self.start + d,
            Limit::Requests(n) => self.counted.load(Ordering::Relaxed) < n,
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One stream slot's counts.
#[derive(Debug, Clone)]
pub struct SlotStats {
    /// Latency of counted successful requests, µs.
    pub latency_us: Histogram<u64>,
    /// Counted successful requests.
    pub requests: u64,
    /// Pushes carried by the counted successful requests.
    pub pushes: u64,
    /// Errors by [`ErrorKind`], counted whenever they happen (warm-up too).
    pub errors: [u64; ErrorKind::COUNT],
    /// The first few error messages.
    pub messages: Vec<String>,
    /// Requests the server never processed (GOAWAY, REFUSED_STREAM), sent
    /// again on a new connection.
    pub retried: u64,
}

impl Default for SlotStats {
    fn default() -> Self {
        SlotStats::new()
    }
}

impl SlotStats {
    pub fn new() -> SlotStats {
        SlotStats {
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds"),
            requests: 0,
            pushes: 0,
            errors: [0; ErrorKind::COUNT],
            retried: 0,
            messages: Vec::new(),
        }
    }

    pub fn success(&mut self, latency: Duration, pushes: usize) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latency_us.saturating_record(us.min(MAX_LATENCY_US));
        self.requests += 1;
        self.pushes += pushes as u64;
    }

    pub fn error(&mut self, failure: Failure) {
        self.errors[failure.kind.index()] += 1;
        if self.messages.len() < MESSAGES_PER_SLOT {
            self.messages.push(failure.message);
        }
    }

    pub fn merge(&mut self, other: SlotStats) {
        self.latency_us.add(&other.latency_us).expect("same histogram bounds");
        self.requests += other.requests;
        self.pushes += other.pushes;
        self.retried += other.retried;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.messages.extend(other.messages);
    }

    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }
}

/// The figures reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub url: String,
    pub requests: u64,
    pub duration_s: f64,
    pub requests_per_sec: f64,
    pub pushes: u64,
    pub pushes_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    /// Requests sent again on a new connection because the server had not
    /// processed them (not errors).
    pub retried: u64,
    pub errors_by_kind: serde_json::Map<String, serde_json::Value>,
    pub error_messages: Vec<String>,
    pub server_cpu_us_per_request: Option<f64>,
    pub connections: usize,
    pub streams_per_connection: usize,
    pub pushes_per_request: usize,
    pub threads: usize,
    pub warmup_s: f64,
}

/// What the run knows besides the slot counts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub url: String,
    pub duration: Duration,
    /// Server CPU time spent in the window.
    pub server_cpu: Option<Duration>,
    pub connections: usize,
    pub streams_per_connection: usize,
    pub pushes_per_request: usize,
    pub threads: usize,
    pub warmup: Duration,
}

/// Messages printed (and put in the JSON).
pub const MAX_MESSAGES: usize = 5;

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Summary {
    pub fn new(stats: &SlotStats, info: &RunInfo) -> Summary {
        let secs = info.duration.as_secs_f64();
        let h = &stats.latency_us;
        let q = |quantile: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(quantile))
            }
        };
        let errors_by_kind = ErrorKind::ALL
            .iter()
            .map(|k| (k.name().to_owned(), serde_json::Value::from(stats.errors[k.index()])))
            .collect();
        Summary {
            url: info.url.clone(),
            requests: stats.requests,
            duration_s: secs,
            requests_per_sec: per_sec(stats.requests, secs),
            pushes: stats.pushes,
            pushes_per_sec: per_sec(stats.pushes, secs),
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
            errors: stats.total_errors(),
            retried: stats.retried,
            errors_by_kind,
            error_messages: stats.messages.iter().take(MAX_MESSAGES).cloned().collect(),
            server_cpu_us_per_request: match (info.server_cpu, stats.requests) {
                (Some(cpu), n) if n > 0 => Some(cpu.as_secs_f64() * 1e6 / n as f64),
                _ => None,
            },
            connections: info.connections,
            streams_per_connection: info.streams_per_connection,
            pushes_per_request: info.pushes_per_request,
            threads: info.threads,
            warmup_s: info.warmup.as_secs_f64(),
        }
    }
}

/// Why the server's CPU time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuError {
    #[error("cannot read /proc/{pid}/stat: {source}")]
    Read { pid: u32, source: std::io::Error },
    #[error("cannot parse /proc/{pid}/stat")]
    Parse { pid: u32 },
}

/// utime + stime, in clock ticks, from the text of `/proc/PID/stat`
/// (fields 14 and 15; the command name, field 2, may contain spaces and
/// parentheses, so fields are counted from the last `)`).
pub fn parse_proc_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    // `rest` starts at field 3 (state): field 14 is the 12th item.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// CPU time (user + system, all threads) the process has used so far.
pub fn process_cpu(pid: u32) -> Result<Duration, CpuError> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(path).map_err(|source| CpuError::Read { pid, source })?;
    let ticks = parse_proc_stat_ticks(&text).ok_or(CpuError::Parse { pid })?;
    let hz = ticks_per_sec();
    Ok(Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_window() {
        let t0 = Instant::now();
        let w = Window::new(t0 + Duration::from_secs(1), Limit::Duration(Duration::from_secs(2)));
        assert_eq!(w.admit(t0), Admit::Warmup);
        assert_eq!(
            w.admit(t0 + Duration::from_millis(1500)),
            Admit::Counted { last: false }
        );
        assert_eq!(w.admit(t0 + Duration::from_secs(3)), Admit::Counted { last: false });
        assert_eq!(w.admit(t0 + Duration::from_millis(3001)), Admit::After);
        assert!(w.open(t0 + Duration::from_millis(2999)));
        assert!(!w.open(t0 + Duration::from_secs(3)));
        assert_eq!(w.deadline(), Some(t0 + Duration::from_secs(3)));
        w.stop();
        assert!(!w.open(t0));
    }

    #[test]
    fn requests_window_closes_at_n() {
        let t0 = Instant::now();
        let w = Window::new(t0, Limit::Requests(3));
        assert_eq!(w.deadline(), None);
        assert_eq!(w.admit(t0 - Duration::from_millis(1)), Admit::Warmup);
        assert!(w.open(t0));
        assert_eq!(w.admit(t0), Admit::Counted { last: false });
        assert_eq!(w.admit(t0), Admit::Counted { last: false });
        assert_eq!(w.reached(), None);
        let end = t0 + Duration::from_millis(5);
        assert_eq!(w.admit(end), Admit::Counted { last: true });
        assert_eq!(w.reached(), Some(end));
        assert!(!w.open(end));
        assert_eq!(w.admit(end), Admit::After);
    }

    #[test]
    fn stats_merge_and_summary() {
        let mut a = SlotStats::new();
        let mut b = SlotStats::new();
        for ms in 1..=100u64 {
            a.success(Duration::from_millis(ms), 3);
        }
        b.success(Duration::from_secs(1), 3);
        b.error(Failure::new(ErrorKind::ExtraPush, "got 4 pushes, expected 3"));
        b.error(Failure::new(ErrorKind::Status, "status 500"));
        a.merge(b);
        assert_eq!(a.requests, 101);
        assert_eq!(a.pushes, 303);
        assert_eq!(a.total_errors(), 2);
        let info = RunInfo {
            url: "http://h/".into(),
            duration: Duration::from_secs(2),
            server_cpu: Some(Duration::from_millis(101)),
            connections: 1,
            streams_per_connection: 2,
            pushes_per_request: 3,
            threads: 1,
            warmup: Duration::ZERO,
        };
        let s = Summary::new(&a, &info);
        assert_eq!(s.requests_per_sec, 50.5);
        assert_eq!(s.pushes_per_sec, 151.5);
        assert!((s.p50_ms - 51.0).abs() < 0.1, "{}", s.p50_ms);
        assert!((s.p90_ms - 91.0).abs() < 0.1, "{}", s.p90_ms);
        assert!((s.p99_ms - 100.0).abs() < 0.1, "{}", s.p99_ms);
        assert!((s.max_ms - 1000.0).abs() < 1.0, "{}", s.max_ms);
        assert_eq!(s.errors, 2);
        assert_eq!(s.errors_by_kind["extra_push"], 1);
        assert_eq!(s.errors_by_kind["missing_push"], 0);
        assert_eq!(s.error_messages.len(), 2);
        assert!((s.server_cpu_us_per_request.unwrap() - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn empty_summary() {
        let info = RunInfo {
            url: "http://h/".into(),
            duration: Duration::ZERO,
            server_cpu: Some(Duration::from_secs(1)),
            connections: 1,
            streams_per_connection: 1,
            pushes_per_request: 0,
            threads: 1,
            warmup: Duration::ZERO,
        };
        let s = Summary::new(&SlotStats::new(), &info);
        assert_eq!((s.requests, s.requests_per_sec, s.p99_ms, s.max_ms), (0, 0.0, 0.0, 0.0));
        assert_eq!(s.server_cpu_us_per_request, None);
    }

    #[test]
    fn proc_stat_fields() {
        let stat = "1234 (push host (x)) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 5 0 100 0 0";
        assert_eq!(parse_proc_stat_ticks(stat), Some(325));
        assert_eq!(parse_proc_stat_ticks("garbage"), None);
        assert_eq!(parse_proc_stat_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn own_process_cpu_is_readable() {
        assert!(process_cpu(std::process::id()).is_ok());
        assert!(matches!(process_cpu(u32::MAX), Err(CpuError::Read { .. })));
    }
}
