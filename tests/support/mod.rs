//! Shared helpers for the integration tests in `tests/`: find the built
//! binaries and guest components, start a real `push-host` on `127.0.0.1:0`,
//! read the address it prints and capture its log.
//!
//! Guests are built by `scripts/test.sh` (`cargo build --release --target
//! wasm32-wasip2`) before `cargo test` runs.
#![allow(dead_code)]

pub mod author;
pub mod gate;
pub mod h2c;
pub mod nghttp;
pub mod pki;
pub mod raw;
pub mod wire;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// A binary of this workspace, built for the host by `cargo build`/`cargo test`.
pub fn workspace_bin(name: &str) -> PathBuf {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let path = target_dir().join(profile).join(name);
    assert!(
        path.exists(),
        "{} not found: run scripts/test.sh (it builds every binary and guest first)",
        path.display()
    );
    path
}

/// The `push-host` binary.
pub fn push_host_bin() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_push-host") {
        Some(p) => PathBuf::from(p),
        None => workspace_bin("push-host"),
    }
}

/// A guest component built by `cargo build --release --target wasm32-wasip2`,
/// by crate name with `-` replaced by `_` (e.g. `http2_service`).
pub fn guest(name: &str) -> PathBuf {
    let path = target_dir().join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "guest {} not found: run scripts/test.sh (it builds the guests first)",
        path.display()
    );
    path
}

/// A running `push-host` process; killed on drop.
pub struct Host {
    child: Child,
    /// The address it printed.
    pub addr: SocketAddr,
    /// `http` or `https`, from the Serving line.
    pub scheme: String,
    log: Arc<(Mutex<String>, Condvar)>,
}

impl Host {
    /// Starts `push-host --module MODULE --listen 127.0.0.1:0 ARGS...` and waits
    /// for its `Serving HTTP/2 on http://ADDR/` line.
    pub fn start(module: &std::path::Path, args: &[&str]) -> Host {
        Host::start_logging(module, args, "info")
    }

    /// Like [`Host::start`] with `RUST_LOG=filter` (e.g. `push_host=debug`,
    /// for tests that wait on the host's debug lines).
    pub fn start_logging(module: &std::path::Path, args: &[&str], filter: &str) -> Host {
        let module = module.to_str().expect("UTF-8 module path");
        let mut all = vec!["--module", module];
        all.extend_from_slice(args);
        Host::start_with(&all, filter)
    }

    /// Starts `push-host --listen 127.0.0.1:0 ARGS...` (ARGS choose the
    /// handler) with `RUST_LOG=filter`.
    pub fn start_with(args: &[&str], filter: &str) -> Host {
        let mut host = Host::spawn(args, filter);
        host.wait_serving();
        host
    }

    /// Starts `push-host --listen 127.0.0.1:0 ARGS...` without waiting for
    /// it to serve (see [`Host::wait_serving`]).
    pub fn spawn(args: &[&str], filter: &str) -> Host {
        let mut command = Command::new(push_host_bin());
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        Host::spawn_command(command, filter)
    }

    /// Starts `command` (push-host, however invoked) with `RUST_LOG=filter`,
    /// without waiting for it to serve.
    pub fn spawn_command(mut command: Command, filter: &str) -> Host {
        let mut child = command
            .env("RUST_LOG", filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn push-host");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("PUSH_HOST_ECHO_LOG").is_some() {
                    eprintln!("[push-host] {line}");
                }
                let (m, c) = &*log2;
                let mut s = m.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
                c.notify_all();
            }
        });
        Host {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            scheme: String::new(),
            log,
        }
    }

    /// Waits for the `Serving HTTP/2 on URL` line; sets `addr` and `scheme`.
    pub fn wait_serving(&mut self) {
        let host = self;
        let line = host
            .wait_for_log("Serving HTTP/2 on ", Duration::from_secs(60))
            .unwrap_or_else(|| panic!("push-host did not start; log:\n{}", host.log()));
        // The URL ends at the line's end, or (`--log-format json`) a quote.
        let url = line.split("Serving HTTP/2 on ").nth(1).unwrap();
        let url = url.split('"').next().unwrap();
        let (scheme, addr) = url.split_once("://").expect("a URL in the Serving line");
        host.scheme = scheme.to_string();
        let addr = addr.trim_end_matches('/');
        host.addr = addr.parse().expect("address in the Serving line");
    }

    /// `http://ADDR` (or `https://`) with no trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Everything the host has logged so far.
    pub fn log(&self) -> String {
        self.log.0.lock().unwrap().clone()
    }

    /// Waits until a log line contains `needle`; returns that line.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (m, c) = &*self.log;
        let mut s = m.lock().unwrap();
        loop {
            if let Some(line) = s.lines().find(|l| l.contains(needle)) {
                return Some(line.to_string());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            s = c.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Waits until the whole log so far satisfies `done` (each new line
    /// wakes it); panics with the log after `timeout`.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        let (m, c) = &*self.log;
        let mut s = m.lock().unwrap();
        while !done(&s) {
            let now = Instant::now();
            assert!(now < deadline, "the log never got there; log:\n{s}");
            s = c.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Like [`Host::wait_for_log`] with 10 s, panicking with the whole log.
    pub fn expect_log(&self, needle: &str) -> String {
        self.wait_for_log(needle, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no log line with {needle:?}; log:\n{}", self.log()))
    }

    /// Like [`Host::expect_log`], without blocking the async runtime (for
    /// tests whose own requests must keep running meanwhile).
    pub async fn expect_log_async(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The position of the first log line containing `needle`, if any.
    pub fn log_position(&self, needle: &str) -> Option<usize> {
        self.log().lines().position(|l| l.contains(needle))
    }

    /// Waits until `count` log lines contain `needle`; returns them.
    pub fn expect_log_lines(&self, needle: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let (m, c) = &*self.log;
        let mut s = m.lock().unwrap();
        loop {
            let lines: Vec<String> = s.lines().filter(|l| l.contains(needle)).map(str::to_string).collect();
            if lines.len() >= count {
                return lines;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "{} of {count} log lines with {needle:?}; log:\n{s}",
                lines.len()
            );
            s = c.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Process id, for RSS checks.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None`
    /// if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs `command` to completion with its output captured, killing it and
/// panicking (with what it printed) if it takes longer than `limit`: no
/// external program can hang a test.
pub fn run_bounded(command: &mut Command, limit: Duration) -> std::process::Output {
    let program = format!("{:?}", command.get_program());
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    });
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(limit) {
        Ok(status) => status.expect("wait for the child"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = out_reader.join().unwrap_or_default();
            let err = err_reader.join().unwrap_or_default();
            panic!(
                "{program} ran past {limit:?} and was killed; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
    };
    std::process::Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Holds `n` instances of `mb` MiB each at once (test-guests' `/hold`,
/// released at `gate`), then lets them end: `n` pool slots are left warm.
/// Waits for the guests' log lines, never a timer.
pub async fn hold_at_gate(host: &Host, gate: &gate::Gate, n: usize, mb: u32) {
    let send = h2c::connect(host.addr, true).await;
    let path = format!("/hold?mb={mb}&gate={}", gate.url());
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (mut send, addr, path) = (send.clone(), host.addr, path.clone());
        tasks.push(tokio::spawn(async move {
            h2c::get(&mut send, addr, &path).await.response.status
        }));
    }
    let holding = format!("hold: holding {mb} MiB");
    tokio::task::block_in_place(|| {
        host.wait_until(Duration::from_secs(30), |log| {
            log.matches(holding.as_str()).count() == n
        })
    });
    gate.open();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}
