//! Helpers for push-client's tests: time bounds, an in-test HTTP/2 server
//! built on `h2::server` that the test fully controls, a raw-frame server
//! for what `h2` refuses to send, and a way to run the CLI binary.
//!
//! Every external process a test starts is bounded in time: one that should
//! exit is run with [`output_within`] (killed, and its output so far shown,
//! if it overruns); one that serves is reaped with [`kill_and_reap`].
#![allow(dead_code)]

pub mod raw;

use std::future::Future;
use std::net::SocketAddr;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::RecvStream;
use h2::server::{SendPushedResponse, SendResponse};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// The seed client's output with `--reject /resource2`, line by line.
pub const SEED_STORY: [&str; 7] = [
    "Received a promise for /resource1",
    "Received a promise for /resource2",
    "Push promise for /resource2 rejected",
    "Received a promise for /resource3",
    r#"Response : {"response":{"name":"main resource"}}"#,
    r#"Promised resource : {"push":{"name":"resource1"}}"#,
    r#"Promised resource : {"push":{"name":"resource3"}}"#,
];

/// Takes every promise of `handle` as it arrives, until the response ends.
pub async fn all_promises(handle: &mut push_client::ResponseHandle) -> Vec<push_client::PushPromise> {
    let mut promises = Vec::new();
    while within("has_promise", handle.has_promise()).await {
        promises.push(handle.next_promise().await.expect("has_promise said so"));
    }
    promises
}

/// Upper bound for any single wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`TIMEOUT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {TIMEOUT:?}: {what}"))
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A server on 127.0.0.1:0 handing each accepted TCP connection to a
/// closure; stops (dropping every connection) when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Calls `on_connection` for every accepted TCP connection.
    pub async fn with_connections<F, Fut>(on_connection: F) -> TestServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                connections.spawn(on_connection(socket));
            }
        });
        TestServer { addr, task }
    }

    /// An HTTP/2 server calling `handler` for every request.
    pub async fn h2<F, Fut>(handler: F) -> TestServer
    where
        F: Fn(http::Request<RecvStream>, SendResponse<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler = Arc::new(handler);
        TestServer::with_connections(move |socket| {
            let handler = handler.clone();
            async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                let mut requests = JoinSet::new();
                while let Some(Ok((request, respond))) = conn.accept().await {
                    requests.spawn(handler(request, respond));
                }
                // Keep the handlers' work until the client is done.
                while requests.join_next().await.is_some() {}
            }
        })
        .await
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `http://AUTHORITY/path` for a push, where AUTHORITY is the one `request`
/// was sent to.
pub fn same_origin(request: &http::Request<RecvStream>, path: &str) -> http::Request<()> {
    let authority = request.uri().authority().expect("request authority");
    http::Request::get(format!("http://{authority}{path}"))
        .body(())
        .unwrap()
}

/// Sends a complete response: status 200, `content-type`, `body` (END_STREAM
/// on the DATA frame).
pub fn respond_with(respond: &mut SendResponse<Bytes>, content_type: &str, body: &str) {
    let response = http::Response::builder()
        .header("content-type", content_type)
        .body(())
        .unwrap();
    let mut stream = respond.send_response(response, false).unwrap();
    stream.send_data(Bytes::from(body.to_owned()), true).unwrap();
}

/// Sends a complete pushed response.
pub fn push_body(pushed: &mut SendPushedResponse<Bytes>, body: &str) {
    let response = http::Response::builder()
        .header("content-type", "application/json")
        .body(())
        .unwrap();
    let mut stream = pushed.send_response(response, false).unwrap();
    stream.send_data(Bytes::from(body.to_owned()), true).unwrap();
}

/// Waits up to `wait` for the client to reset `pushed`; its reason, or
/// `None` if it did not.
pub async fn reset_within(pushed: &mut SendPushedResponse<Bytes>, wait: Duration) -> Option<h2::Reason> {
    let reset = std::future::poll_fn(|cx| pushed.poll_reset(cx));
    match tokio::time::timeout(wait, reset).await {
        Ok(Ok(reason)) => Some(reason),
        _ => None,
    }
}

/// The seed's service: promises /resource1..3, the main JSON response,
/// then the pushes. /resource2 is held until the client resets it (for up
/// to 5 s) so the reset is observed deterministically; what the server saw
/// goes to `observed`, e.g. `"/resource2 reset: CANCEL"`.
pub async fn seed_server(observed: mpsc::UnboundedSender<String>) -> TestServer {
    TestServer::h2(move |request, mut respond| {
        let observed = observed.clone();
        async move {
            let mut pushes = Vec::new();
            for path in ["/resource1", "/resource2", "/resource3"] {
                match respond.push_request(same_origin(&request, path)) {
                    Ok(pushed) => pushes.push((path, pushed)),
                    Err(e) => {
                        let _ = observed.send(format!("push refused: {e}"));
                        break;
                    }
                }
            }
            respond_with(
                &mut respond,
                "application/json",
                r#"{"response":{"name":"main resource"}}"#,
            );
            for (path, mut pushed) in pushes {
                if path == "/resource2"
                    && let Some(reason) = reset_within(&mut pushed, Duration::from_secs(5)).await
                {
                    let _ = observed.send(format!("{path} reset: {reason:?}"));
                    continue;
                }
                let name = path.trim_start_matches('/');
                push_body(&mut pushed, &format!(r#"{{"push":{{"name":"{name}"}}}}"#));
                let _ = observed.send(format!("{path} pushed"));
            }
        }
    })
    .await
}

/// A server that answers the first request with headers and part of a
/// body, then closes the TCP connection (no GOAWAY).
pub async fn closing_mid_body_server() -> TestServer {
    TestServer::with_connections(|socket| async move {
        let mut conn = raw::RawConn::start(socket).await;
        let stream = conn.request().await;
        let headers = [(":status", "200"), ("content-length", "100")];
        conn.headers(stream, &headers, false).await;
        conn.data(stream, b"the first part of", false).await;
        drop(conn);
    })
    .await
}

/// The client's limit of concurrently open pushes (its
/// SETTINGS_MAX_CONCURRENT_STREAMS).
pub const PUSH_LIMIT: u32 = 100;

/// A raw-frame server answering one request with [`PUSH_LIMIT`] + 1 promises
/// for `/p`: `h2` itself refuses the last one (stream 202) with
/// `RST_STREAM(REFUSED_STREAM)`. The server sends the main response
/// (`main`), waits for that reset and reports its code on `codes`, then
/// completes the other pushes with empty responses.
pub async fn over_push_limit_server(codes: mpsc::UnboundedSender<u32>) -> TestServer {
    TestServer::with_connections(move |socket| {
        let codes = codes.clone();
        async move {
            let mut conn = raw::RawConn::start(socket).await;
            let stream = conn.request().await;
            let last = 2 * (PUSH_LIMIT + 1);
            for promised in (2..=last).step_by(2) {
                conn.push_get(stream, promised, "/p").await;
            }
            conn.headers(stream, &[(":status", "200")], false).await;
            conn.data(stream, b"main", true).await;
            let Some(reset) = conn.read_until(|f| f.kind == raw::RST_STREAM && f.stream == last).await else {
                return;
            };
            let _ = codes.send(raw::rst_code(&reset));
            for promised in (2..last).step_by(2) {
                conn.headers(promised, &[(":status", "200")], true).await;
            }
            // Serve until the client goes away.
            while conn.read_frame().await.is_some() {}
        }
    })
    .await
}

/// What a run of the `push-client` binary produced.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// Runs the `push-client` binary with `args`, bounded by [`TIMEOUT`].
pub async fn run_cli(args: &[&str]) -> CliRun {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_push-client"));
    command.args(args).env_remove("RUST_LOG");
    let output = output_within(&format!("push-client {args:?}"), command, TIMEOUT).await;
    CliRun {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// A process that did not exit in time: it has been killed and reaped.
#[derive(Debug)]
pub struct Overran {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` (stdin closed, stdout and stderr captured) to its exit,
/// waiting at most `limit`; if it overruns, panics with what it printed.
pub async fn output_within(what: &str, command: tokio::process::Command, limit: Duration) -> Output {
    try_output_within(command, limit).await.unwrap_or_else(|overran| {
        panic!(
            "{what} did not exit within {limit:?}; killed.\nstdout:\n{}\nstderr:\n{}",
            overran.stdout, overran.stderr
        )
    })
}

/// Like [`output_within`], returning the output captured so far (the
/// process killed and reaped) instead of panicking.
pub async fn try_output_within(mut command: tokio::process::Command, limit: Duration) -> Result<Output, Overran> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let stdout = capture(child.stdout.take().expect("piped stdout"));
    let stderr = capture(child.stderr.take().expect("piped stderr"));
    let deadline = tokio::time::Instant::now() + limit;
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => status.expect("wait for the child"),
        Err(_) => {
            let _ = child.start_kill();
            // SIGKILL cannot be ignored; bound the reap all the same.
            let _ = tokio::time::timeout(TIMEOUT, child.wait()).await;
            return Err(Overran {
                stdout: stdout.snapshot(),
                stderr: stderr.snapshot(),
            });
        }
    };
    // The pipes close when the child exits, unless it left a descendant
    // holding them: give the readers until the deadline.
    let stdout = stdout.finish(deadline).await;
    let stderr = stderr.finish(deadline).await;
    Ok(Output { status, stdout, stderr })
}

/// Bytes read from a pipe by a background task, readable at any time.
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

fn capture(mut pipe: impl AsyncRead + Unpin + Send + 'static) -> Captured {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let sink = bytes.clone();
    let task = tokio::spawn(async move {
        let mut buf = [0; 8192];
        while let Ok(n @ 1..) = pipe.read(&mut buf).await {
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Captured { bytes, task }
}

impl Captured {
    fn snapshot(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    async fn finish(self, deadline: tokio::time::Instant) -> Vec<u8> {
        let ended = tokio::time::timeout_at(deadline, self.task).await;
        assert!(ended.is_ok(), "the pipe stayed open after the process exited");
        std::mem::take(&mut *self.bytes.lock().unwrap())
    }
}

/// Kills a server process started by a test and reaps it, waiting at most
/// [`TIMEOUT`]; its exit status, or `None` if it could not be reaped.
pub fn kill_and_reap(child: &mut std::process::Child) -> Option<ExitStatus> {
    let _ = child.kill();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                eprintln!("could not reap process {} within {TIMEOUT:?}", child.id());
                return None;
            }
        }
    }
}
