//! A connection's life beyond single requests: the push diary, 103 Early
//! Hints when the client disables push, the handshake and idle timeouts,
//! keepalive PINGs, and graceful shutdown on SIGTERM/SIGINT.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::gate::Gate;
use support::raw::{ACK, GOAWAY, PING, RawClient};
use support::{Host, guest, run_bounded};
use support::{h2c, wire};
use tokio::io::AsyncReadExt;

fn seed() -> std::path::PathBuf {
    guest("http2_service")
}

fn promised(ex: &h2c::Exchange) -> Vec<String> {
    ex.promises.iter().map(|p| p.path.clone()).collect()
}

fn tool(program: &str, args: &[&str]) -> String {
    let out = run_bounded(Command::new(program).args(args), Duration::from_secs(30));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

// ---- push diary ----

#[tokio::test]
async fn the_diary_stops_a_second_push_of_the_same_paths_on_one_connection() {
    let host = Host::start(&seed(), &[]);
    let mut send = h2c::connect(host.addr, true).await;
    let first = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert_eq!(promised(&first), ["/resource1", "/resource2", "/resource3"]);
    assert_eq!(first.pushes.len(), 3);
    let second = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert_eq!(second.response.status, 200);
    assert!(promised(&second).is_empty(), "pushed again: {:?}", promised(&second));
    host.expect_log_async("promise /resource3 refused: already pushed or requested on this connection")
        .await;
    // The diary is per connection: a new one gets the pushes again.
    let mut other = h2c::connect(host.addr, true).await;
    let third = h2c::get(&mut other, host.addr, "/http2Service").await;
    assert_eq!(promised(&third).len(), 3);
}

#[tokio::test]
async fn a_path_the_client_requested_is_not_pushed_to_it() {
    let host = Host::start(&seed(), &[]);
    let mut send = h2c::connect(host.addr, true).await;
    // The seed answers every path, and promises /resource1..3 each time.
    let ex = h2c::get(&mut send, host.addr, "/resource2").await;
    assert_eq!(promised(&ex), ["/resource1", "/resource3"]);
}

/// A HEAD counts as a request for the diary too: after `HEAD /n/0`, a
/// promise of `/n/0` on the same connection is refused; a fresh connection
/// gets it. Broken (the diary taking GETs only): the promise is made.
#[tokio::test]
async fn a_path_the_client_requested_with_head_is_not_pushed_to_it() {
    let host = Host::start(&guest("test_guests"), &[]);
    let mut send = h2c::connect(host.addr, true).await;
    let head = h2c::exchange(
        &mut send,
        host.addr,
        "/n/0",
        h2c::Ask {
            method: Some(http::Method::HEAD),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(head.response.status, 404);
    let ex = h2c::get(&mut send, host.addr, "/promise-n?n=1").await;
    assert!(promised(&ex).is_empty(), "{:?}", promised(&ex));
    host.expect_log_async("promise /n/0 refused: already pushed or requested on this connection")
        .await;
    let mut fresh = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut fresh, host.addr, "/promise-n?n=1").await;
    assert_eq!(promised(&ex), ["/n/0"]);
}

#[tokio::test]
async fn push_diary_0_pushes_every_time() {
    let host = Host::start(&seed(), &["--push-diary", "0"]);
    let mut send = h2c::connect(host.addr, true).await;
    for _ in 0..2 {
        let ex = h2c::get(&mut send, host.addr, "/http2Service").await;
        assert_eq!(promised(&ex).len(), 3);
    }
}

// ---- 103 Early Hints ----

/// The `:status` and `link` lines nghttp printed for the main stream (the
/// one odd-numbered stream it opens a request on).
fn status_and_links(verbose: &str) -> Vec<String> {
    verbose
        .lines()
        .filter_map(|l| {
            let rest = l.split("recv (stream_id=").nth(1)?;
            let (id, field) = rest.split_once(") ")?;
            let odd = id.parse::<u32>().ok()? % 2 == 1;
            (odd && (field.starts_with(":status:") || field.starts_with("link: "))).then(|| field.trim().to_string())
        })
        .collect()
}

#[test]
fn nghttp_without_push_gets_a_103_with_every_promised_path() {
    let host = Host::start(&seed(), &[]);
    let out = tool("nghttp", &["-nv", "--no-push", &format!("{}/http2Service", host.url())]);
    let links = [
        "link: </resource1>; rel=preload; as=fetch; crossorigin",
        "link: </resource2>; rel=preload; as=fetch; crossorigin",
        "link: </resource3>; rel=preload; as=fetch; crossorigin",
    ];
    let mut expected = vec![":status: 103".to_string()];
    expected.extend(links.iter().map(|s| s.to_string()));
    expected.push(":status: 200".into());
    expected.extend(links.iter().map(|s| s.to_string()));
    assert_eq!(status_and_links(&out), expected, "{out}");
    assert!(!out.contains("PUSH_PROMISE"), "{out}");
    host.expect_log("103 Early Hints sent: /resource1, /resource2, /resource3");
    // The guest is still told that push is off.
    host.expect_log("Error occurred while sending the promise1: push-disabled");
}

#[test]
fn curl_sees_the_103_too() {
    let host = Host::start(&seed(), &[]);
    let out = tool(
        "curl",
        &[
            "-sv",
            "--http2-prior-knowledge",
            &format!("{}/http2Service", host.url()),
        ],
    );
    let hint = out.find("< HTTP/2 103").unwrap_or_else(|| panic!("no 103:\n{out}"));
    let ok = out.find("< HTTP/2 200").unwrap_or_else(|| panic!("no 200:\n{out}"));
    assert!(hint < ok, "{out}");
    assert_eq!(
        out.matches("< link: </resource2>; rel=preload; as=fetch; crossorigin")
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains(r#"{"response":{"name":"main resource"}}"#), "{out}");
}

#[test]
fn early_hints_off_sends_no_103_and_no_links() {
    let host = Host::start(&seed(), &["--early-hints", "off"]);
    let out = tool("nghttp", &["-nv", "--no-push", &format!("{}/http2Service", host.url())]);
    assert_eq!(status_and_links(&out), [":status: 200"], "{out}");
}

/// GET `path` on a recorded connection whose client has push off; returns
/// once the first HEADERS of stream 1 (a 103 or the response) is received.
async fn first_headers_without_push(host: &Host, path: &str) -> (wire::Recording, h2::client::ResponseFuture) {
    let mut builder = h2::client::Builder::new();
    builder.enable_push(false);
    let mut rec = wire::connect(host.addr, &builder).await;
    let request = http::Request::get(format!("{}{path}", host.url())).body(()).unwrap();
    let (response, _) = rec.send.send_request(request, true).unwrap();
    rec.frames
        .wait_until(Duration::from_secs(30), |frames| {
            frames.iter().any(|f| f.kind == wire::HEADERS && f.stream == 1)
        })
        .await;
    (rec, response)
}

/// The 103 goes out while the handler is still making its response:
/// `/page-gated` promises two assets and then waits at the test's gate. The
/// 103 (the first HEADERS on the stream; the response cannot have been sent
/// yet) must arrive while the gate is closed, and carry both promises (one
/// 103 for the burst). Broken (the 103 sent with the response): no HEADERS
/// arrives while the gate is closed, and the wait panics.
#[tokio::test(flavor = "multi_thread")]
async fn the_103_arrives_while_the_handler_is_still_working() {
    let gate = Gate::new();
    let host = Host::start(&guest("test_guests"), &["--allow-outbound-host", &gate.origin()]);
    let (rec, response) = first_headers_without_push(&host, &format!("/page-gated?url={}", gate.url())).await;
    // The gate is still closed: that HEADERS cannot be the response.
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    let line = host.expect_log_async("103 Early Hints sent").await;
    assert!(line.ends_with("103 Early Hints sent: /page.css, /page.js"), "{line}");
    gate.open();
    let response = response.await.expect("the page");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get_all("link").iter().count(), 2);
    let headers = rec
        .frames
        .all()
        .iter()
        .filter(|f| f.kind == wire::HEADERS && f.stream == 1)
        .count();
    assert_eq!(headers, 2, "one 103, then the 200: {:?}", rec.frames.all());
    assert_eq!(host.log().matches("103 Early Hints sent").count(), 1, "{}", host.log());
}

/// The same when the handler computes instead of waiting: `/page-spin`
/// promises, busy-waits 1,000 ms, then responds. The 103 arrives when the
/// guest first yields (an epoch tick or a clock call), so well before the
/// 200: the gap between them is at least half the computation. Broken (the
/// 103 sent with the response): they arrive together.
#[tokio::test(flavor = "multi_thread")]
async fn the_103_of_a_computing_handler_precedes_its_response_by_the_computation() {
    let host = Host::start(&guest("test_guests"), &[]);
    let (_rec, response) = first_headers_without_push(&host, "/page-spin?ms=1000").await;
    let hinted = Instant::now();
    let response = response.await.expect("the page");
    let gap = hinted.elapsed();
    assert_eq!(response.status(), 200);
    assert!(
        gap >= Duration::from_millis(500),
        "the 103 came only {gap:?} before the 200"
    );
}

#[test]
fn a_client_that_accepts_pushes_gets_pushes_not_hints() {
    let host = Host::start(&seed(), &[]);
    let out = tool("nghttp", &["-nv", &format!("{}/http2Service", host.url())]);
    assert_eq!(status_and_links(&out), [":status: 200"], "{out}");
    assert_eq!(out.matches("recv PUSH_PROMISE").count(), 3, "{out}");
}

// ---- timeouts and keepalive ----

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_after_the_handshake_timeout() {
    let host = Host::start(&guest("test_guests"), &["--handshake-timeout-s", "0.4"]);
    let mut socket = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = vec![0; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("closed within 10 s");
        if matches!(read, Ok(0) | Err(_)) {
            break;
        }
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(350), "closed after {waited:?}");
    host.expect_log_async("nothing received within the handshake timeout of 0.4 s; closed")
        .await;
    // The server still serves.
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
}

/// Reads frames until the server closes, answering PINGs if `pong`;
/// panics after `limit`.
async fn frames_until_closed(client: &mut RawClient, limit: Duration, pong: bool) -> Vec<support::raw::Frame> {
    let mut frames = Vec::new();
    tokio::time::timeout(limit, async {
        while let Some(f) = client.read_frame().await {
            if pong && f.kind == PING && f.flags & ACK == 0 {
                client.write_frame(PING, ACK, 0, &f.payload).await;
            }
            frames.push(f);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("still open after {limit:?}; frames: {frames:?}"));
    frames
}

#[tokio::test]
async fn an_idle_connection_gets_goaway_then_is_closed() {
    let host = Host::start(&guest("test_guests"), &["--idle-timeout-s", "0.5"]);
    let mut client = RawClient::connect(host.addr, &[]).await;
    // A request that outlasts the idle timeout does not count as idle.
    client.get(1, "/sleep?ms=900").await;
    let started = Instant::now();
    let reply = client.read_until_end(1).await;
    assert!(
        reply.iter().all(|f| f.kind != GOAWAY),
        "GOAWAY during a request: {reply:?}"
    );
    let rest = frames_until_closed(&mut client, Duration::from_secs(10), true).await;
    // h2 first announces GOAWAY with the highest id, PINGs, and on the PONG
    // sends the final one.
    let goaway = rest
        .iter()
        .rfind(|f| f.kind == GOAWAY)
        .unwrap_or_else(|| panic!("no GOAWAY: {rest:?}"));
    assert_eq!(&goaway.payload[4..8], &[0, 0, 0, 0], "NO_ERROR");
    assert_eq!(&goaway.payload[..4], &1u32.to_be_bytes(), "last stream id 1");
    assert!(
        started.elapsed() >= Duration::from_millis(1300),
        "{:?}",
        started.elapsed()
    );
    host.expect_log_async("idle for 0.5 s: GOAWAY").await;
}

#[tokio::test]
async fn an_idle_client_that_ignores_the_goaway_ping_is_closed_anyway() {
    let host = Host::start(
        &guest("test_guests"),
        &["--idle-timeout-s", "0.3", "--keepalive-s", "0"],
    );
    let mut client = RawClient::connect(host.addr, &[]).await;
    let started = Instant::now();
    let frames = frames_until_closed(&mut client, Duration::from_secs(10), false).await;
    assert!(frames.iter().any(|f| f.kind == GOAWAY), "{frames:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    host.expect_log_async("still open 0.3 s after its idle GOAWAY; closing")
        .await;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed() {
    let host = Host::start(
        &guest("test_guests"),
        &["--keepalive-s", "0.3", "--idle-timeout-s", "0"],
    );
    let mut client = RawClient::connect(host.addr, &[]).await;
    let frames = frames_until_closed(&mut client, Duration::from_secs(10), false).await;
    assert!(frames.iter().any(|f| f.kind == PING), "{frames:?}");
    host.expect_log_async("no PONG within 0.3 s of a keepalive PING; closing")
        .await;
}

/// A client that answers PINGs (h2 does) stays connected: after the host
/// has sent it five keepalive PINGs, as the recorded frames show, the
/// connection still serves. Broken (a PONG not counted): the host closes
/// it after the second PING and the hello fails.
#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let host = Host::start(
        &guest("test_guests"),
        &["--keepalive-s", "0.2", "--idle-timeout-s", "0"],
    );
    let mut rec = wire::connect(host.addr, &h2::client::Builder::new()).await;
    rec.frames
        .wait_until(Duration::from_secs(30), |f| {
            f.iter().filter(|f| f.kind == wire::PING && f.flags & 0x1 == 0).count() >= 5
        })
        .await;
    h2c::assert_hello(&mut rec.send, host.addr).await;
    assert!(!host.log().contains("no PONG"), "{}", host.log());
}

// ---- graceful shutdown ----

/// SIGTERM with a request certainly in flight (its guest is held at the
/// test's gate): GOAWAY reaches the client while the request runs, no new
/// connection is accepted, and once the gate opens the request and its two
/// pushes finish; the exit status is 0. Broken (no GOAWAY on TERM, or the
/// request cut): the wait for GOAWAY panics, or the page or its pushes are
/// missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_goaway_lets_a_request_in_flight_and_its_pushes_finish_then_exits_0() {
    let gate = Gate::new();
    let mut host = Host::start(&guest("test_guests"), &["--allow-outbound-host", &gate.origin()]);
    let addr = host.addr;
    let rec = wire::connect(addr, &h2::client::Builder::new()).await;
    let (frames, mut send) = (rec.frames.clone(), rec.send.clone());
    let path = format!("/page-gated?url={}", gate.url());
    let slow = tokio::spawn(async move { h2c::get(&mut send, addr, &path).await });
    let held = tokio::task::block_in_place(|| gate.wait_arrivals(1, Duration::from_secs(30)));
    assert!(held, "the request never reached the gate: {}", host.log());
    host.signal("TERM");
    host.expect_log_async("no longer accepting").await;
    frames
        .wait_until(Duration::from_secs(10), |f| f.iter().any(|f| f.kind == wire::GOAWAY))
        .await;
    assert!(!slow.is_finished(), "the request ended before the gate opened");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "a new connection was accepted during shutdown"
    );
    gate.open();
    let ex = slow.await.unwrap();
    assert_eq!(ex.response.status, 200);
    assert!(ex.response.text().contains("made while its assets loaded"));
    let mut pushed: Vec<_> = ex
        .pushes
        .iter()
        .map(|(path, r)| (path.clone(), r.as_ref().map(|r| r.text().len()).unwrap_or_default()))
        .collect();
    pushed.sort();
    assert_eq!(pushed.len(), 2, "{pushed:?}");
    assert!(pushed.iter().all(|(_, len)| *len > 0), "{pushed:?}");
    let status = tokio::task::block_in_place(|| host.wait_exit(Duration::from_secs(10))).expect("exited");
    assert!(status.success(), "{status:?}");
    assert!(
        host.log().contains("shutdown complete: every request finished"),
        "{}",
        host.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_shutdown_timeout_what_is_left_is_cut_and_the_exit_is_still_0() {
    let mut host = Host::start(&guest("test_guests"), &["--shutdown-timeout-s", "0.5"]);
    let addr = host.addr;
    let mut send = h2c::connect(addr, true).await;
    let _slow =
        tokio::spawn(async move { h2c::try_exchange(&mut send, addr, "/sleep?ms=20000", Default::default()).await });
    host.expect_log_async("sleep: sleeping 20000 ms").await;
    host.signal("INT");
    let status = tokio::task::block_in_place(|| host.wait_exit(Duration::from_secs(10))).expect("exited");
    assert!(status.success(), "{status:?}");
    host.expect_log("shutdown timeout of 0.5 s passed: closing 1 connection(s); 1 request(s) cut");
}
