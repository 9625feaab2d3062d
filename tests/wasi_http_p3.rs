//! Standard `wasi:http/service@0.3` components (component-model async)
//! served unchanged: a Spin SDK 7 `#[http_service]` component from
//! crates.io (test-guests-spin) with its Link-preload assets pushed, its
//! streamed body, request body and failures; and push:handler@0.2.0 guests
//! (the 0.3 seed, examples/http2-service-p3; the Spin page that pushes,
//! examples/spin-push) with the seed's exchange.

mod support;

use std::process::Command;
use std::time::Duration;

use support::h2c;
use support::nghttp::{Recv, nghttp, received};
use support::wire;
use support::{Host, guest, run_bounded};

fn curl(args: &[&str]) -> String {
    let out = run_bounded(Command::new("curl").args(args), Duration::from_secs(30));
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn promised_paths(frames: &[Recv]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f.kind == "PUSH_PROMISE")
        .map(|f| f.field(":path").unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_spin_sdk_7_component_is_served_and_its_preloads_pushed() {
    let host = Host::start(&guest("test_guests_spin"), &[]);
    host.expect_log("world wasi:http/service@0.3 (handler)");
    let url = format!("{}/", host.url());
    let verbose = nghttp(&["-nv", &url]);
    let frames = received(&verbose);
    assert_eq!(promised_paths(&frames), ["/style.css", "/app.js"], "{verbose}");
    let main = frames.iter().find(|f| f.kind == "PUSH_PROMISE").unwrap().stream;
    let headers = frames
        .iter()
        .position(|f| f.stream == main && f.kind == "HEADERS")
        .unwrap();
    let last_promise = frames.iter().rposition(|f| f.kind == "PUSH_PROMISE").unwrap();
    assert!(last_promise < headers, "promises precede the page's headers: {verbose}");
    let bodies = nghttp(&[&url]);
    assert!(bodies.contains("spin page"), "{bodies}");
    assert!(bodies.contains("body { color: teal }"), "{bodies}");
    assert!(bodies.contains("console.log('spin');"), "{bodies}");
    let line = host.expect_log("GET /: handled in");
    assert!(line.contains("promised=2 pushed=2"), "{line}");
}

#[test]
fn a_spin_component_streams_its_body_reads_the_request_body_and_fails_cleanly() {
    let host = Host::start(&guest("test_guests_spin"), &[]);
    // A body written chunk by chunk from a task the handler spawned, after
    // it returned its response: 200 KB, more than nghttp's stream window.
    let verbose = nghttp(&["-nv", &format!("{}/stream?chunks=40&size=5000", host.url())]);
    let data: u32 = received(&verbose)
        .iter()
        .filter(|f| f.kind == "DATA")
        .map(|f| f.length)
        .sum();
    assert_eq!(data, 200_000, "{verbose}");
    let body = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/stream?chunks=3&size=2", host.url()),
    ]);
    assert_eq!(body, "aabbcc");
    // HTTP/1.1: the same body, chunked as the guest writes it.
    let body = curl(&["-s", "--http1.1", &format!("{}/stream?chunks=3&size=2", host.url())]);
    assert_eq!(body, "aabbcc");
    // The request body streams in.
    let file = std::env::temp_dir().join(format!("push-host-spin-echo-{}", std::process::id()));
    std::fs::write(&file, "x".repeat(100_000)).unwrap();
    let echo = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{}/echo", host.url()),
    ]);
    std::fs::remove_file(&file).ok();
    assert_eq!(echo, "POST /echo body=100000\n");
    // A panic is a trap: 500 and its log line, and the host serves on.
    let out = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "-w",
        "\n%{http_code}",
        &format!("{}/trap", host.url()),
    ]);
    assert!(out.ends_with("\n500"), "{out}");
    host.expect_log("GET /trap: 500: guest trapped");
    let body = curl(&["-s", "--http2-prior-knowledge", &format!("{}/style.css", host.url())]);
    assert_eq!(body, "body { color: teal }\n");
}

const MAIN: &str = r#"{"response":{"name":"main resource"}}"#;

fn push_body(n: u32) -> String {
    format!(r#"{{"push":{{"name":"resource{n}"}}}}"#)
}

/// The 0.3 seed gives the seed's exchange: three promises before the main
/// response's HEADERS, the main JSON, the three pushed JSON bodies.
#[tokio::test]
async fn the_p3_seed_gives_the_seed_exchange() {
    let host = Host::start(&guest("http2_service_p3"), &["--push-diary", "0"]);
    host.expect_log("world wasi:http/service@0.3 (handler)");
    let mut rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
    let ex = h2c::get(&mut rec.send, host.addr, "/http2Service").await;
    assert_eq!(rec.frames.assert_promises_before_response(1), 3);
    let paths: Vec<_> = ex.promises.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/resource1", "/resource2", "/resource3"]);
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), MAIN);
    assert_eq!(ex.response.headers["content-type"], "application/json");
    let pushes: Vec<_> = ex
        .pushes
        .iter()
        .map(|(path, r)| {
            let r = r.as_ref().expect("push delivered");
            assert_eq!(r.status, 200);
            assert_eq!(r.headers["content-type"], "application/json");
            (path.as_str(), r.text())
        })
        .collect();
    assert_eq!(
        pushes,
        [
            ("/resource1", push_body(1)),
            ("/resource2", push_body(2)),
            ("/resource3", push_body(3))
        ]
    );
    let line = host.expect_log("GET /http2Service: handled in");
    assert!(line.contains("promised=3 pushed=3"), "{line}");
}

/// `push-client --reject /resource2` against the 0.3 seed prints the seed
/// client's transcript.
#[test]
fn the_p3_seed_gives_the_seed_client_transcript() {
    let host = Host::start(&guest("http2_service_p3"), &[]);
    let client = support::target_dir().join("debug/push-client");
    let out = run_bounded(
        Command::new(client).args(["--reject", "/resource2", &format!("{}/http2Service", host.url())]),
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(MAIN), "{stdout}");
    assert!(
        stdout.contains(&push_body(1)) && stdout.contains(&push_body(3)),
        "{stdout}"
    );
    assert!(!stdout.contains(&push_body(2)), "{stdout}");
}

/// A Spin SDK 7 handler that pushes through push-guest (examples/spin-push).
#[test]
fn a_spin_handler_pushes_through_push_guest() {
    let host = Host::start(&guest("spin_push"), &[]);
    let url = format!("{}/", host.url());
    let verbose = nghttp(&["-nv", &url]);
    let frames = received(&verbose);
    assert_eq!(promised_paths(&frames), ["/style.css", "/app.js"], "{verbose}");
    let bodies = nghttp(&[&url]);
    assert!(bodies.contains("Served by a Spin SDK 7 component"), "{bodies}");
    assert!(bodies.contains("font-family: sans-serif"), "{bodies}");
    assert!(bodies.contains("document.title = 'pushed';"), "{bodies}");
    // Push off (curl): the promises become a 103 and link headers.
    let out = curl(&["-s", "-i", "--http2-prior-knowledge", &url]);
    assert!(out.contains("HTTP/2 103"), "{out}");
    assert!(out.contains("link: </style.css>; rel=preload; as=style"), "{out}");
    assert!(out.contains("Served by a Spin SDK 7 component"), "{out}");
}

/// The wasip3 guest: a streamed body with trailers (h2, 300 KB, more than
/// the client's window), the request body and its trailers read as they
/// arrive, HEAD, HTTP/1.1.
#[test]
fn a_wasip3_component_streams_bodies_and_trailers_both_ways() {
    let host = Host::start(&guest("test_guests_p3"), &[]);
    host.expect_log("world wasi:http/service@0.3 (handler)");
    let verbose = nghttp(&["-nv", &format!("{}/stream?chunks=60&size=5000", host.url())]);
    let frames = received(&verbose);
    let data: u32 = frames.iter().filter(|f| f.kind == "DATA").map(|f| f.length).sum();
    assert_eq!(data, 300_000, "{verbose}");
    let trailers = frames.last().unwrap();
    assert_eq!(trailers.kind, "HEADERS", "{verbose}");
    assert_eq!(trailers.field("x-chunks"), Some("60"), "{verbose}");
    assert_eq!(trailers.field("x-bytes"), Some("300000"), "{verbose}");
    let body = curl(&["-s", "--http1.1", &format!("{}/stream?chunks=3&size=2", host.url())]);
    assert_eq!(body, "aabbcc");
    let head = curl(&["-s", "-I", "--http2-prior-knowledge", &format!("{}/hello", host.url())]);
    assert!(head.starts_with("HTTP/2 200"), "{head}");
    assert!(!head.contains("hello from"), "{head}");
    let file = std::env::temp_dir().join(format!("push-host-p3-echo-{}", std::process::id()));
    std::fs::write(&file, "y".repeat(300_000)).unwrap();
    let echo = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{}/echo", host.url()),
    ]);
    std::fs::remove_file(&file).ok();
    assert_eq!(echo, "POST /echo body=300000 trailers=0\n");
}

/// Outgoing requests through 0.3's `wasi:http/client` are denied unless
/// the destination is allowed.
#[test]
fn outgoing_requests_from_a_p3_component_are_denied_unless_allowed() {
    let gate = support::gate::Gate::new();
    gate.open();
    let denied = Host::start(&guest("test_guests_p3"), &[]);
    let out = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/fetch?url={}", denied.url(), gate.url()),
    ]);
    assert!(out.starts_with("denied ErrorCode::HttpRequestDenied"), "{out}");
    assert_eq!(gate.arrivals(), 0);
    let allowed = Host::start(&guest("test_guests_p3"), &["--allow-outbound-host", &gate.origin()]);
    let out = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/fetch?url={}", allowed.url(), gate.url()),
    ]);
    assert_eq!(out, "fetched 200\n");
}

/// A trap once the body has started resets the stream with INTERNAL_ERROR
/// at once (not at the deadline); the connection serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p3_trap_after_the_body_started_resets_the_stream_at_once() {
    let gate = support::gate::Gate::new();
    let host = Host::start(
        &guest("test_guests_p3"),
        &["--timeout-ms", "60000", "--allow-outbound-host", &gate.origin()],
    );
    let mut rec = wire::connect(host.addr, &h2::client::Builder::new()).await;
    let request = http::Request::get(format!("{}/trap-after-body?url={}", host.url(), gate.url()))
        .body(())
        .unwrap();
    let (response, _) = rec.send.send_request(request, true).unwrap();
    let response = response.await.expect("the guest's 200");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = body.data().await.expect("the first bytes").unwrap();
    assert_eq!(&first[..], b"first chunk\n");
    gate.open();
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter().any(|f| f.kind == wire::RST_STREAM && f.stream == 1)
        })
        .await;
    let frames = rec.frames.all();
    let reset = frames
        .iter()
        .find(|f| f.kind == wire::RST_STREAM && f.stream == 1)
        .unwrap();
    assert_eq!(reset.word, 2, "INTERNAL_ERROR: {frames:?}");
    host.expect_log_async("guest trapped").await;
    let mut send = rec.send.clone();
    let hello = h2c::get(&mut send, host.addr, "/hello").await;
    assert_eq!(hello.response.status, 200);
}

/// The empty-writes pattern of GHSA-f8mm-ggr3-89wh / GHSA-5m8g-xhq4-4h93:
/// a million zero-length writes to a response body. The host's response
/// path sends no frame for them and its memory stays bounded. Broken (a
/// DATA frame per write, or a buffer per write): the frame count or the
/// host's peak memory grows with the writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_empty_writes_cost_no_frames_and_bounded_memory() {
    let host = Host::start(&guest("test_guests_p3"), &["--timeout-ms", "120000"]);
    let peak = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    let mut rec = wire::connect(host.addr, &h2::client::Builder::new()).await;
    // Warm up (the first instance, the pool), then measure.
    let warm = h2c::get(&mut rec.send, host.addr, "/stream?chunks=2&size=1").await;
    assert_eq!(warm.response.text(), "ab");
    let before = peak(host.pid());
    let ex = h2c::get(&mut rec.send, host.addr, "/stream?chunks=2&size=1&empty=500000").await;
    assert_eq!(ex.response.text(), "ab");
    host.expect_log_async("stream: 2 chunks, 2 bytes and 1000000 empty writes sent")
        .await;
    let after = peak(host.pid());
    let data_frames = rec
        .frames
        .all()
        .iter()
        .filter(|f| f.kind == wire::DATA && f.stream == 3)
        .count();
    assert!(data_frames <= 3, "{data_frames} DATA frames for a 2-byte body");
    assert!(
        after.saturating_sub(before) < 32 * 1024,
        "peak memory grew from {before} kB to {after} kB"
    );
}

/// Hostile pushes, each with a bounded, named outcome, the connection
/// serving on: promises after the main body ended fail with `closed` (and
/// no PUSH_PROMISE follows the parent's END_STREAM); 10,000 promises get
/// the per-request limit; a guest that never reads a 1 MB request body is
/// answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promises_after_the_end_and_10000_promises_are_refused_by_name() {
    let host = Host::start(&guest("test_guests_p3"), &["--push-diary", "0"]);
    let mut rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
    let ex = h2c::get(&mut rec.send, host.addr, "/push-after-end").await;
    assert_eq!(ex.response.text(), "main body\n");
    host.expect_log_async("push-after-end: closed after").await;
    let frames = rec.frames.all();
    let end = frames
        .iter()
        .position(|f| f.stream == 1 && f.flags & 0x1 != 0)
        .expect("the main stream ended");
    assert!(
        !frames[end..]
            .iter()
            .any(|f| f.kind == wire::PUSH_PROMISE && f.stream == 1),
        "a PUSH_PROMISE after END_STREAM: {frames:?}"
    );
    let many = h2c::get(&mut rec.send, host.addr, "/promises?n=10000").await;
    let text = many.response.text();
    assert!(text.starts_with("ok="), "{text}");
    let ok: usize = text["ok=".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(ok > 0 && ok <= 100, "{text}");
    assert!(
        text.contains(&format!("limit-exceeded={} other=0", 10_000 - ok)),
        "{text}"
    );
    assert_eq!(many.pushes.len(), ok);
    // A 1 MB body the guest never reads.
    let request = http::Request::post(format!("{}/ignore-body", host.url()))
        .body(())
        .unwrap();
    let (response, mut body) = rec.send.send_request(request, false).unwrap();
    body.send_data(bytes::Bytes::from(vec![b'z'; 1 << 20]), true).ok();
    let response = response.await.expect("a response");
    assert_eq!(response.status(), 200);
    let hello = h2c::get(&mut rec.send, host.addr, "/hello").await;
    assert_eq!(hello.response.status, 200);
}

/// A pushed body never finished: the deadline resets the pushed stream;
/// a trap while a pushed body streams resets it at once; a pushed stream
/// the client resets while the guest writes it ends the request (the host
/// stops reading the guest's body and drops the instance).
/// The connection serves on after each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_trapping_and_reset_pushes_end_their_streams() {
    let gate = support::gate::Gate::new();
    let host = Host::start(
        &guest("test_guests_p3"),
        &[
            "--timeout-ms",
            "2000",
            "--push-diary",
            "0",
            "--allow-outbound-host",
            &gate.origin(),
        ],
    );
    let mut rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
    // Never finished: the main response arrives, the pushed stream is reset.
    let ex = h2c::get(&mut rec.send, host.addr, "/push-never-finished").await;
    assert_eq!(ex.response.text(), "main body\n");
    host.expect_log_async("push-never-finished: pushed body started").await;
    let pushed = rec.frames.promises()[0].1;
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter().any(|f| f.kind == wire::RST_STREAM && f.stream == pushed)
        })
        .await;
    host.expect_log_async("GET /push-never-finished").await;
    // A trap while the pushed body streams.
    let path = format!("/push-trap?url={}", gate.url());
    let mut send = rec.send.clone();
    let trap = tokio::spawn(async move {
        let addr = host.addr;
        let ex = h2c::get(&mut send, addr, &path).await;
        (host, ex)
    });
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter().filter(|f| f.kind == wire::PUSH_PROMISE).count() == 2
        })
        .await;
    let pushed = rec.frames.promises()[1].1;
    gate.open();
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter().any(|f| f.kind == wire::RST_STREAM && f.stream == pushed)
        })
        .await;
    let reset = rec
        .frames
        .all()
        .into_iter()
        .find(|f| f.kind == wire::RST_STREAM && f.stream == pushed)
        .unwrap();
    assert_eq!(reset.word, 2, "INTERNAL_ERROR");
    let (host, ex) = trap.await.unwrap();
    assert_eq!(ex.response.text(), "main body\n");
    host.expect_log_async("guest trapped").await;
    // The client resets a pushed stream the guest writes forever.
    let request = http::Request::get(format!("{}/push-forever", host.url()))
        .body(())
        .unwrap();
    let (mut response, _) = rec.send.send_request(request, true).unwrap();
    let mut promises = response.push_promises();
    let promise = promises.push_promise().await.expect("a promise").expect("a promise");
    let (_, pushed_response) = promise.into_parts();
    let pushed_response = pushed_response.await.expect("the pushed head");
    let (_, mut pushed_body) = pushed_response.into_parts();
    let first = pushed_body.data().await.expect("pushed bytes").unwrap();
    assert!(!first.is_empty());
    drop(pushed_body);
    drop(promises);
    // The host stops reading the guest's body; with nothing else
    // outstanding the request ends and its instance is dropped.
    host.expect_log_async("pushed /asset/forever not delivered: the stream closed")
        .await;
    host.expect_log_async("GET /push-forever: handled in").await;
    let hello = h2c::get(&mut rec.send, host.addr, "/hello").await;
    assert_eq!(hello.response.status, 200);
}
