//! Shared helpers for the integration tests in `tests/`: find the built
//! binaries and guest components, start a real `push-host` on `127.0.0.1:0`,
//! read the address it prints and capture its log.
//!
//! Guests are built by `scripts/test.sh` (`cargo build --release --target
//! wasm32-wasip2`) before `cargo test` runs.
#![allow(dead_code)]

pub mod h2c;

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
    log: Arc<(Mutex<String>, Condvar)>,
}

impl Host {
    /// Starts `push-host --module MODULE --listen 127.0.0.1:0 ARGS...` and waits
    /// for its `Serving HTTP/2 on http://ADDR/` line.
    pub fn start(module: &std::path::Path, args: &[&str]) -> Host {
        let mut child = Command::new(push_host_bin())
            .arg("--module")
            .arg(module)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
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
        let mut host = Host {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            log,
        };
        let line = host
            .wait_for_log("Serving HTTP/2 on http://", Duration::from_secs(60))
            .unwrap_or_else(|| panic!("push-host did not start; log:\n{}", host.log()));
        let addr = line
            .split("Serving HTTP/2 on http://")
            .nth(1)
            .unwrap()
            .trim_end_matches('/');
        host.addr = addr.parse().expect("address in the Serving line");
        host
    }

    /// `http://ADDR` with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Like [`Host::wait_for_log`] with 10 s, panicking with the whole log.
    pub fn expect_log(&self, needle: &str) -> String {
        self.wait_for_log(needle, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no log line with {needle:?}; log:\n{}", self.log()))
    }

    /// Process id, for RSS checks.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
