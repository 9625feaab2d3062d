//! The `push-client` binary: the seed's story against an in-test seed
//! server, `--json`, `--no-push`, `-H`, and one clear line on each failure.

mod common;

use common::{
    SEED_STORY, TestServer, closed_port, closing_mid_body_server, respond_with, run_cli, seed_server, within,
};
use serde_json::Value;
use tokio::sync::mpsc;

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
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("expected `name: value`"), "{run:?}");
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
        ("https://127.0.0.1/", "https:// (TLS) is not supported yet"),
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
