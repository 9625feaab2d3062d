//! Every error case of the `caller` contract, driven by the `test-guests`
//! component (one behaviour per route) through the real `push-host`.

mod support;

use bytes::Bytes;
use http::Method;
use support::h2c::{self, Ask};
use support::wire;
use support::{Host, guest};

fn test_host(args: &[&str]) -> Host {
    Host::start(&guest("test_guests"), args)
}

#[tokio::test]
async fn traps_give_500_name_the_trap_and_leave_the_connection_usable() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    for (route, kind) in [
        ("/trap", "unreachable"),
        ("/unreachable", "unreachable"),
        ("/stack-overflow", "stack overflow"),
        ("/shadow-stack-overflow", "out of bounds memory access"),
    ] {
        let ex = h2c::get(&mut send, host.addr, route).await;
        assert_eq!(ex.response.status, 500, "{route}");
        assert!(
            ex.response.text().contains("guest trapped"),
            "{route}: {}",
            ex.response.text()
        );
        let line = host.expect_log(&format!("GET {route}: 500: guest trapped"));
        assert!(line.contains(kind), "{route}: {line}");
        h2c::assert_hello(&mut send, host.addr).await;
    }
    // The panic message itself reaches the log through the guest's stderr.
    host.expect_log("test-guests: deliberate panic");
}

#[tokio::test]
async fn no_response_gives_500() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/no-response").await;
    assert_eq!(ex.response.status, 500);
    assert!(ex.response.text().contains("without a response"));
    host.expect_log("GET /no-response: 500: handler returned without a response");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn respond_twice_keeps_the_first_and_reports_already_responded() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/respond-twice").await;
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), "first");
    let line = host.expect_log("stderr: respond-twice: second respond returned");
    assert!(line.contains("AlreadyResponded"), "{line}");
}

/// Each line of the body is one rejected call's error; all must be `invalid`.
fn assert_invalid_lines(body: &str, expected: usize) {
    let lines: Vec<_> = body.lines().collect();
    assert_eq!(lines.len(), expected, "{body}");
    for line in lines {
        assert!(line.starts_with("invalid"), "{line}");
    }
}

#[tokio::test]
async fn invalid_headers_and_statuses_send_nothing_so_the_guest_can_recover() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/invalid-header").await;
    assert_eq!(ex.response.status, 200);
    assert_invalid_lines(&ex.response.text(), 3);
    let ex = h2c::get(&mut send, host.addr, "/invalid-status").await;
    assert_eq!(ex.response.status, 200);
    assert_invalid_lines(&ex.response.text(), 2);
}

#[tokio::test]
async fn bad_promises_are_invalid_and_nothing_is_promised() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/promise-post").await;
    assert_eq!(ex.response.status, 200);
    assert!(ex.promises.is_empty());
    assert_invalid_lines(&ex.response.text(), 4);
}

#[tokio::test]
async fn promise_after_respond_is_closed_and_never_sent() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/promise-after-respond").await;
    assert_eq!(ex.response.text(), "responded");
    assert!(ex.promises.is_empty());
    let line = host.expect_log("stderr: promise-after-respond:");
    assert!(line.contains("Closed"), "{line}");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn a_dropped_promise_is_cancelled_and_nothing_hangs() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/promise-dropped").await;
    assert_eq!(ex.response.text(), "dropped");
    assert_eq!(ex.promises.len(), 1);
    let (path, result) = &ex.pushes[0];
    assert_eq!(path, "/dropped");
    let err = result.as_ref().expect_err("the dropped promise is reset, not answered");
    assert!(err.starts_with("CANCEL"), "{err}");
    host.expect_log("promised /dropped dropped without push");
}

#[tokio::test]
async fn promises_left_unpushed_by_a_trap_or_a_timeout_are_cancelled() {
    // Both rounds promise the same paths on one connection: no push diary.
    let host = test_host(&["--timeout-ms", "300", "--push-diary", "0"]);
    let mut send = h2c::connect(host.addr, true).await;
    for (how, status) in [("trap", 500), ("spin", 504)] {
        let ex = h2c::get(&mut send, host.addr, &format!("/promise-then-fail?how={how}")).await;
        assert_eq!(ex.response.status, status, "{how}: {}", ex.response.text());
        let paths: Vec<&str> = ex.promises.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/doomed/0", "/doomed/1"], "{how}");
        for (path, result) in &ex.pushes {
            let err = result.as_ref().expect_err("an unpushed promise is reset, not answered");
            assert!(err.starts_with("CANCEL"), "{how} {path}: {err}");
        }
        assert_eq!(ex.pushes.len(), 2, "{how}");
    }
    host.expect_log_lines("promised /doomed/0 dropped without push; resetting stream", 2);
    host.expect_log_lines("promised /doomed/1 dropped without push; resetting stream", 2);
    h2c::assert_hello(&mut send, host.addr).await;
}

/// `push` consumes its promise: with an invalid response the guest gets
/// `invalid` and the host resets the promised stream with CANCEL (as the
/// README and the WIT say), so the client never waits for it.
#[tokio::test]
async fn an_invalid_push_is_reported_and_its_promise_cancelled() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/push-invalid").await;
    assert!(
        ex.response.text().starts_with("push: invalid: "),
        "{}",
        ex.response.text()
    );
    assert_eq!(ex.pushes.len(), 1);
    let (path, result) = &ex.pushes[0];
    assert_eq!(path, "/bad");
    let err = result.as_ref().expect_err("the promise is reset");
    assert!(err.starts_with("CANCEL"), "{err}");
    host.expect_log("promised /bad dropped without push; resetting stream 2 with CANCEL");
}

/// A client that closes its connection while the handler runs: the
/// handler's calls then return `closed`, and the host serves others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_return_closed_once_the_client_closed_the_connection() {
    let host = test_host(&[]);
    let rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
    let request = http::Request::get(format!("http://{}/closed-probe", host.addr))
        .body(())
        .unwrap();
    let (response, _stream) = rec.send.clone().send_request(request, true).unwrap();
    host.expect_log_async("GET /closed-probe stdout: closed-probe: started")
        .await;
    rec.task.abort(); // drops the socket: the connection is closed
    let _ = rec.task.await;
    drop((response, rec.send));
    let line = host.expect_log_async("closed-probe: promise=").await;
    assert!(
        line.ends_with("promise=closed: the stream or connection is closed respond=closed: the stream or connection is closed push=refused: the client reset or refused the promised stream"),
        "{line}"
    );
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn push_limit_per_request_and_per_client() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/push-limit").await;
    let body = ex.response.text();
    assert!(body.starts_with("promised 32: limit-exceeded"), "{body}");
    assert_eq!(ex.promises.len(), 32);
    for (i, (path, r)) in ex.pushes.iter().enumerate() {
        assert_eq!(path, &format!("/p/{i}"));
        assert_eq!(r.as_ref().expect("pushed").text(), format!("p/{i}"));
    }

    // A client that allows 5 concurrent pushed streams gets 5.
    let mut five = h2c::connect_with(host.addr, h2::client::Builder::new().max_concurrent_streams(5)).await;
    let ex = h2c::get(&mut five, host.addr, "/push-limit").await;
    assert!(
        ex.response.text().starts_with("promised 5: limit-exceeded"),
        "{}",
        ex.response.text()
    );
    assert_eq!(ex.pushes.len(), 5);

    // A client that allows none gets none, and nothing hangs.
    let mut none = h2c::connect_with(host.addr, h2::client::Builder::new().max_concurrent_streams(0)).await;
    let ex = h2c::get(&mut none, host.addr, "/push-limit").await;
    assert!(
        ex.response.text().starts_with("promised 0: limit-exceeded"),
        "{}",
        ex.response.text()
    );
    assert!(ex.promises.is_empty());

    // The per-request limit is configurable.
    let host = test_host(&["--max-pushes", "3"]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/push-limit").await;
    assert!(
        ex.response.text().starts_with("promised 3: limit-exceeded"),
        "{}",
        ex.response.text()
    );
}

#[tokio::test]
async fn large_request_bodies_echo_and_oversized_ones_get_413() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let body: Bytes = (0..1 << 20).map(|i| (i % 253) as u8).collect::<Vec<_>>().into();
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/echo",
        Ask {
            method: Some(Method::POST),
            body: body.clone(),
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.headers["x-body-len"], "1048576");
    assert!(ex.response.body == body, "echoed body differs");

    let too_big: Bytes = vec![7u8; (1 << 20) + 1].into();
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/echo",
        Ask {
            method: Some(Method::POST),
            body: too_big,
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.response.status, 413);
    host.expect_log("POST /echo: request body exceeds 1048576 bytes: 413, handler not run");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn large_responses_and_pushes_arrive_whole_under_flow_control() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let n = 5 * 1024 * 1024 + 17;
    let ex = h2c::get(&mut send, host.addr, &format!("/large?bytes={n}")).await;
    let expected: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.body.len(), n);
    assert!(ex.response.body == expected, "main body differs");
    let (path, pushed) = &ex.pushes[0];
    assert_eq!(path, "/large-push");
    let pushed = pushed.as_ref().expect("pushed");
    assert_eq!(pushed.body.len(), n);
    assert!(pushed.body == expected, "pushed body differs");
}

/// Pushed bodies wait for the main body: a client that reads the main body
/// before any pushed one still finishes, even when the pushes alone would fill
/// the connection's 64 KiB window.
#[tokio::test]
async fn a_client_reading_the_main_body_first_is_not_starved_by_pushes() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let n = 1024 * 1024;
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        &format!("/large?bytes={n}"),
        Ask {
            pushes_after_main: true,
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.response.body.len(), n);
    assert_eq!(ex.pushes[0].1.as_ref().expect("pushed").body.len(), n);
}

#[tokio::test]
async fn pushing_a_stream_the_client_reset_is_refused() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let reject = ["/r1"];
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/push-after-reset",
        Ask {
            reject: &reject,
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.response.text(), "ok");
    // Waits without blocking the runtime: the client's RST_STREAM must go out.
    let line = host.expect_log_async("stderr: push-after-reset:").await;
    assert!(line.contains("Refused"), "{line}; log:\n{}", host.log());
    // The host saw the client's RST_STREAM and names the pushed path.
    host.expect_log("client reset pushed stream /r1 (CANCEL)");
}

#[tokio::test]
async fn a_client_that_resets_its_request_does_not_disturb_others() {
    let host = test_host(&[]);
    let send = h2c::connect(host.addr, true).await;
    let mut ready = send.clone().ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/spin-ms?ms=300", host.addr))
        .body(())
        .unwrap();
    let (future, mut stream) = ready.send_request(request, true).unwrap();
    stream.send_reset(h2::Reason::CANCEL);
    drop(future);
    let mut send = send;
    h2c::assert_hello(&mut send, host.addr).await;
    host.expect_log("client reset its request stream (CANCEL)");
    // Garbage on a new connection closes that connection only: a broken
    // HTTP/2 preface, then bytes that are neither HTTP/2 nor HTTP/1.1.
    use tokio::io::AsyncWriteExt;
    let mut raw = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    raw.write_all(b"PRI * HTTP/9.9\r\n\r\nXX\r\n\r\n").await.unwrap();
    host.expect_log("HTTP/2 handshake failed");
    let mut raw = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    raw.write_all(b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await.unwrap();
    host.expect_log("HTTP/1.1 connection ended");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn guest_stdout_and_stderr_reach_the_log_tagged_with_the_stream() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/log").await;
    assert_eq!(ex.response.text(), "logged");
    let out = host.expect_log("stdout line from guest");
    assert!(out.contains("conn=1 stream=1 GET /log stdout:"), "{out}");
    let err = host.expect_log("stderr line from guest");
    assert!(err.contains("conn=1 stream=1 GET /log stderr:"), "{err}");
}

/// A client that rejects every promise the moment it arrives: its resets race
/// the guest's pushes. h2 0.4.20 would answer a reset that lands while a
/// pushed response's HEADERS are queued with GOAWAY (the host holds such a
/// reset back until the HEADERS are written); the connection must survive.
///
/// The test goes on until the host has held such a reset back at least
/// twice (its debug log counts them), so it proves the hold was exercised,
/// and checks the frames the client received: a broken connection is a
/// GOAWAY on the wire (and a `connection error` line in the host's log).
#[tokio::test]
async fn rejecting_every_push_as_it_arrives_never_breaks_the_connection() {
    // Every round pushes the same paths on one connection: no push diary.
    let host = Host::start_logging(
        &guest("test_guests"),
        &["--push-diary", "0"],
        "info,push_host::http2::conn=debug",
    );
    // This client resets thousands of streams on purpose; lift h2's own guard against that.
    let mut rec = wire::connect(
        host.addr,
        h2::client::Builder::new().max_local_error_reset_streams(None),
    )
    .await;
    let send = &mut rec.send;
    let paths: Vec<String> = (0..32).map(|i| format!("/p/{i}")).collect();
    let reject: Vec<&str> = paths.iter().map(String::as_str).collect();
    const HOLDS: usize = 2;
    const MAX_ROUNDS: usize = 400;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS
        && host
            .log()
            .matches("holding the client's reset of pushed stream")
            .count()
            < HOLDS
    {
        let round = rounds;
        rounds += 1;
        let ex = h2c::try_exchange(
            send,
            host.addr,
            &format!("/push-spread?gap_us={}", 10 + round % 16 * 40),
            Ask {
                reject: &reject,
                ..Ask::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("round {round}: {e}; log:\n{}", host.log()));
        assert_eq!(ex.response.text(), "promised 32", "round {round}");
        assert_eq!(ex.promises.len(), 32);
    }
    let holds = host
        .log()
        .matches("holding the client's reset of pushed stream")
        .count();
    eprintln!("{rounds} rounds, {holds} held resets");
    assert!(
        holds >= HOLDS,
        "no reset was held back in {rounds} rounds: the race was never exercised"
    );
    h2c::assert_hello(send, host.addr).await;
    let goaways: Vec<_> = rec
        .frames
        .all()
        .into_iter()
        .filter(|f| f.kind == wire::GOAWAY)
        .collect();
    assert!(goaways.is_empty(), "the host sent GOAWAY: {goaways:?}");
    assert!(!host.log().contains("connection error"), "{}", host.log());
}
