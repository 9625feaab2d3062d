//! Against someone else's server: nghttpd (Debian `nghttp2-server`) pushing
//! files with `-p`. The library receives the pushes and their bodies; the
//! CLI's `--reject` resets one, which nghttpd's verbose log confirms.
//!
//! nghttpd is required: when it is missing these tests fail (they do not
//! skip) and say how to install it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{run_cli, within};
use push_client::{Client, Request};

const BIG: usize = 1_000_000;

fn nghttpd_bin() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("nghttpd"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nghttpd not found (in PATH or /usr/sbin): install the Debian package \
                 nghttp2-server (`apt-get install -y nghttp2-server`; .ci/run does this)"
            )
        })
}

/// A running `nghttpd --no-tls -v` serving a temporary directory; killed
/// (and the directory removed) on drop.
struct Nghttpd {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Nghttpd {
    /// Serves index.html, a.txt and big.txt (1 MB), pushing a.txt and big.txt
    /// with index.html.
    fn start(name: &str) -> Nghttpd {
        let bin = nghttpd_bin();
        let dir = std::env::temp_dir().join(format!("push-client-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "index\n").unwrap();
        std::fs::write(dir.join("a.txt"), "hello a\n").unwrap();
        std::fs::write(dir.join("big.txt"), vec![b'b'; BIG]).unwrap();
        let mut last_log = String::new();
        for _attempt in 0..5 {
            // Free now; another process may take it before nghttpd does, in
            // which case nghttpd exits and we try another.
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(&bin)
                .args(["--no-tls", "-v", "-a", "127.0.0.1"])
                .arg("-p/index.html=/a.txt,/big.txt")
                .arg("-d")
                .arg(&dir)
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn nghttpd");
            let log = Arc::new(Mutex::new(String::new()));
            collect(child.stdout.take().unwrap(), log.clone());
            collect(child.stderr.take().unwrap(), log.clone());
            let mut server = Nghttpd {
                child,
                port,
                dir: dir.clone(),
                log,
            };
            if server.wait_until_accepting() {
                return server;
            }
            last_log = server.log();
            common::kill_and_reap(&mut server.child);
            std::mem::forget(server); // keep the directory for the next try
        }
        panic!("nghttpd did not start; last log:\n{last_log}");
    }

    fn wait_until_accepting(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(_probe) = TcpStream::connect(("127.0.0.1", self.port)) {
                // The port may have been taken by another test's server
                // between our bind and nghttpd's (nghttpd then exits): only
                // nghttpd logs the SETTINGS it sends to our probe.
                return self
                    .wait_for_log(|log| log.contains("send SETTINGS frame").then_some(()))
                    .is_some()
                    && matches!(self.child.try_wait(), Ok(None));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to 5 s until `found` holds for the log.
    fn wait_for_log<T>(&self, found: impl Fn(&str) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(t) = found(&self.log()) {
                return Some(t);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nghttpd {
    fn drop(&mut self) {
        common::kill_and_reap(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn collect(from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            let mut log = into.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// The stream nghttpd promised for `path` (from its `-v` log).
fn promised_stream(log: &str, path: &str) -> Option<u32> {
    let mut current = None;
    for line in log.lines() {
        if let Some(rest) = line.split("promised_stream_id=").nth(1) {
            current = rest.trim_end_matches(')').parse().ok();
        } else if line.trim() == format!(":path: {path}") && current.is_some() {
            return current;
        } else if line.starts_with('[') {
            current = None;
        }
    }
    None
}

/// The error code of the RST_STREAM nghttpd received for `stream`, e.g.
/// `CANCEL(0x08)`.
fn reset_received(log: &str, stream: u32) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let header = format!("recv RST_STREAM frame <length=4, flags=0x00, stream_id={stream}>");
    let at = lines.iter().position(|l| l.contains(&header))?;
    let code = lines.get(at + 1)?.split("error_code=").nth(1)?;
    Some(code.strip_suffix(')').unwrap_or(code).to_owned())
}

fn assert_file(dir: &Path, name: &str, body: &[u8]) {
    assert_eq!(std::fs::read(dir.join(name)).unwrap(), body, "{name}");
}

#[tokio::test]
async fn library_receives_nghttpd_pushes_and_their_bodies() {
    let server = Nghttpd::start("library");
    let client = within("connect", Client::connect(&server.url("/"))).await.unwrap();
    let mut handle = client.submit(Request::get("/index.html")).await.unwrap();
    let promises = common::all_promises(&mut handle).await;
    let paths: Vec<_> = promises.iter().map(|p| p.path().to_owned()).collect();
    assert_eq!(paths, ["/a.txt", "/big.txt"], "log:\n{}", server.log());
    assert!(handle.refused_promises().is_empty(), "{:?}", handle.refused_promises());
    assert_eq!(promises[0].authority(), Some(client.authority()));

    let response = within("response", handle.response()).await.unwrap();
    assert_eq!(response.text().unwrap(), "index\n");
    assert_eq!(response.headers["content-type"], "text/html");
    let mut bodies = Vec::new();
    for promise in promises {
        let pushed = within("pushed", handle.promised_response(promise)).await.unwrap();
        assert_eq!(pushed.status, 200);
        bodies.push(pushed.body);
    }
    assert_file(&server.dir, "a.txt", &bodies[0]);
    assert_file(&server.dir, "big.txt", &bodies[1]);
    assert_eq!(bodies[1].len(), BIG);
}

#[tokio::test]
async fn cli_rejects_an_nghttpd_push_and_nghttpd_sees_the_reset() {
    let server = Nghttpd::start("cli");
    let run = run_cli(&[&server.url("/index.html"), "--reject", "/big.txt"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout_lines(),
        [
            "Received a promise for /a.txt",
            "Received a promise for /big.txt",
            "Push promise for /big.txt rejected",
            "Response : index",
            "Promised resource : hello a",
        ],
        "{run:?}"
    );
    // big.txt is larger than a stream window, so it is still being sent
    // when the client rejects it: nghttpd must receive the reset.
    let big = server
        .wait_for_log(|log| promised_stream(log, "/big.txt"))
        .unwrap_or_else(|| panic!("no promise for /big.txt in the log:\n{}", server.log()));
    let code = server.wait_for_log(|log| reset_received(log, big));
    assert_eq!(code.as_deref(), Some("CANCEL(0x08)"), "log:\n{}", server.log());
    let a = promised_stream(&server.log(), "/a.txt").unwrap();
    assert_eq!(reset_received(&server.log(), a), None, "a.txt was wanted");
}
