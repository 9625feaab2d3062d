//! The `push-client` binary: the seed's story against an in-test seed
//! server, `--json`, `--no-push`, `-H`, and one clear line on each failure
//! (usage errors included). Also the time bound on every process run.

mod common;

use std::time::{Duration, Instant};

use common::raw::RawConn;
use common::{
    PUSH_LIMIT, SEED_STORY, TestServer, closed_port, closing_mid_body_server, over_push_limit_server, respond_with,
    run_cli, seed_server, within,
};
use serde_json::Value;
use tokio::sync::mpsc;

/// Parses `--json` output, one object per line.
fn json_events(run: &common::CliRun) -> Vec<Value> {
    run.stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Asserts a failed run: exit code `code`, nothing but one line on stderr,
/// containing `needle`.
fn assert_fails(run: &common::CliRun, code: i32, needle: &str) {
    assert_eq!(run.code, Some(code), "{run:?}");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {run:?}");
    assert!(lines[0].starts_with("push-client: error: "), "{run:?}");
    assert!(lines[0].contains(needle), "`{needle}` missing: {run:?}");
}

#[tokio::test]
async fn tells_the_seed_story_and_the_server_sees_the_reject() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = seed_server(tx).await;
    let run = run_cli(&[&server.url("/http2Service"), "--reject", "/resource2"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout_lines(), SEED_STORY, "{run:?}");
    assert_eq!(run.stderr, "");
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(within("server report", rx.recv()).await.unwrap());
    }
    assert!(reports.contains(&"/resource2 reset: CANCEL".to_owned()), "{reports:?}");
}

#[tokio::test]
async fn json_prints_one_object_per_event() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let server = seed_server(tx).await;
    let run = run_cli(&[&server.url("/http2Service"), "--reject", "/resource2", "--json"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let events: Vec<Value> = run
        .stdout_lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let summary: Vec<String> = events
        .iter()
        .map(|e| format!("{} {}", e["event"].as_str().unwrap(), e["path"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        summary,
        [
            "promise /resource1",
            "promise /resource2",
            "rejected /resource2",
            "promise /resource3",
            "response -",
            "promised_response /resource1",
            "promised_response /resource3",
        ]
    );
    assert_eq!(events[0]["method"], "GET");
    assert_eq!(events[0]["authority"], server.addr.to_string());
    assert_eq!(events[0]["stream_id"], 2);
    assert_eq!(events[4]["status"], 200);
    assert_eq!(events[4]["headers"]["content-type"], "application/json");
    assert_eq!(
        events[4]["json"],
        serde_json::json!({"response": {"name": "main resource"}})
    );
    assert_eq!(events[5]["json"]["push"]["name"], "resource1");
    assert_eq!(events[6]["body"], r#"{"push":{"name":"resource3"}}"#);
}

#[tokio::test]
async fn no_push_prints_only_the_response() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = seed_server(tx).await;
    let run = run_cli(&[&server.url("/http2Service"), "--no-push"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout_lines(), [SEED_STORY[4]]);
    let report = within("server report", rx.recv()).await.unwrap();
    assert!(report.contains("disabled server push"), "{report}");
}

#[tokio::test]
async fn headers_are_sent_and_non_2xx_fails() {
    let server = TestServer::h2(|request, mut respond| async move {
        let ok = request.headers().get("x-token").is_some_and(|v| v == "let me in");
        if ok {
            respond_with(&mut respond, "text/plain", "welcome\n");
        } else {
            let response = http::Response::builder().status(403).body(()).unwrap();
            respond.send_response(response, true).unwrap();
        }
    })
    .await;
    let run = run_cli(&[&server.url("/door"), "-H", "X-Token:  let me in "]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout_lines(), ["Response : welcome"]);

    let run = run_cli(&[&server.url("/door")]).await;
    assert_fails(&run, 1, "the server answered 403 Forbidden to GET /door");

    let run = run_cli(&[&server.url("/door"), "-H", "no colon"]).await;
    assert_fails(&run, 2, "expected `name: value`");
}

/// A usage error is one line on stderr (not clap's usage text) and exit
/// status 2; `--help` still prints the usage, to stdout.
#[tokio::test]
async fn bad_arguments_fail_with_one_line() {
    let url = "http://127.0.0.1:1/";
    for (args, needle) in [
        (&[][..], "<URL>"),
        (&["--bogus", url][..], "unexpected argument '--bogus'"),
        (&[url, "--reject"][..], "a value is required for '--reject <PATH>'"),
        (&[url, "-H"][..], "'--header <NAME: VALUE>'"),
        (&[url, "second-url"][..], "unexpected argument 'second-url'"),
        (&[url, "--json", "--json"][..], "'--json' cannot be used multiple times"),
    ] {
        let run = run_cli(args).await;
        assert_fails(&run, 2, needle);
        assert_eq!(run.stdout, "", "{run:?}");
    }
    let run = run_cli(&["--help"]).await;
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:?}");
    assert!(run.stdout.contains("Usage: push-client [OPTIONS] <URL>"), "{run:?}");
}

/// `--json` reports a refused promise with the RST_STREAM code the server
/// really received: here REFUSED_STREAM, sent by h2 for a push beyond the
/// client's limit.
#[tokio::test]
async fn json_refused_event_carries_the_code_sent() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = over_push_limit_server(tx).await;
    let run = run_cli(&[&server.url("/"), "--json"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let events = json_events(&run);
    let count = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    assert_eq!(count("promise"), PUSH_LIMIT as usize, "{run:?}");
    assert_eq!(count("promised_response"), PUSH_LIMIT as usize, "{run:?}");
    let refused: Vec<&Value> = events.iter().filter(|e| e["event"] == "refused").collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["stream_id"], 2 * (PUSH_LIMIT + 1));
    assert_eq!(refused[0]["method"], Value::Null);
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("refused by the HTTP/2 layer"),
        "{refused:?}"
    );
    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(refused[0]["reason"], format!("{:?}", h2::Reason::from(code)));
    assert_eq!(refused[0]["reason"], "REFUSED_STREAM");
}

/// A raw server that answers a request with a PUSH_PROMISE for stream 3,
/// a client-initiated id: a connection error (RFC 9113 §5.1.1).
async fn bad_promise_id_server() -> TestServer {
    TestServer::with_connections(|socket| async move {
        let mut conn = RawConn::start(socket).await;
        let stream = conn.request().await;
        conn.push_get(stream, 3, "/odd").await;
        conn.headers(stream, &[(":status", "200")], false).await;
        conn.data(stream, b"main", true).await;
        // Until the client sends its GOAWAY and closes.
        while conn.read_frame().await.is_some() {}
    })
    .await
}

#[tokio::test]
async fn protocol_error_exits_1_with_one_line() {
    let server = bad_promise_id_server().await;
    let run = run_cli(&[&server.url("/")]).await;
    assert_fails(&run, 1, "HTTP/2 protocol error (PROTOCOL_ERROR");
    assert_eq!(run.stdout, "", "{run:?}");
    let run = run_cli(&[&server.url("/"), "--json"]).await;
    assert_fails(&run, 1, "HTTP/2 protocol error (PROTOCOL_ERROR");
    let events = json_events(&run);
    assert_eq!(events.len(), 1, "{run:?}");
    assert_eq!(events[0]["event"], "error");
    assert!(
        events[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP/2 protocol error"),
        "{run:?}"
    );
}

/// The bound on every process a test runs: one that hangs is killed and
/// reaped in time, and what it printed is kept for the report.
#[tokio::test]
async fn a_hung_process_is_killed_and_its_output_kept() {
    let mut command = tokio::process::Command::new("sh");
    command.args(["-c", "echo $$; echo stuck >&2; exec sleep 30"]);
    let started = Instant::now();
    let run = common::try_output_within(command, Duration::from_millis(500));
    let overran = within("the bounded run", run).await.expect_err("sleep 30 overran");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(overran.stderr, "stuck\n");
    let pid = overran.stdout.trim();
    assert!(
        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()),
        "{overran:?}"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} was killed and reaped"
    );
}

#[tokio::test]
async fn unreachable_port_fails_with_one_line() {
    let port = closed_port().await;
    let run = run_cli(&[&format!("http://127.0.0.1:{port}/")]).await;
    assert_fails(&run, 1, &format!("connection refused by 127.0.0.1:{port}"));
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn malformed_url_fails_with_one_line() {
    for (url, needle) in [
        ("http//127.0.0.1/x", "invalid URL `http//127.0.0.1/x`"),
        ("http://", "invalid URL"),
        ("http://127.0.0.1:99999/", "invalid URL"),
        ("ftp://127.0.0.1/", "use an http:// (h2c) or https:// URL"),
        ("ftp://127.0.0.1/", "unsupported URL scheme `ftp`"),
    ] {
        let run = run_cli(&[url]).await;
        assert_fails(&run, 2, needle);
    }
}

#[tokio::test]
async fn server_closing_mid_stream_fails_with_one_line() {
    let server = closing_mid_body_server().await;
    let run = run_cli(&[&server.url("/")]).await;
    // The server closes with unread bytes, so the kernel may reset the
    // connection before the client has read the response head: "while
    // waiting for" and "while receiving" the response are both right.
    assert_fails(&run, 1, "the connection was closed while");
    assert!(run.stderr.contains("the response to GET /"), "{run:?}");
    let run = run_cli(&[&server.url("/"), "--json"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let event: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(event["event"], "error");
}
