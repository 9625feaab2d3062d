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

/// `curl`'s POST of `len` bytes `byte` to `/echo` (from a file: too long
/// for an argument), its body.
fn post_echo(host: &Host, byte: u8, len: usize) -> String {
    let file = std::env::temp_dir().join(format!("push-host-p3-echo-{}-{len}", std::process::id()));
    std::fs::write(&file, vec![byte; len]).unwrap();
    let echo = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{}/echo", host.url()),
    ]);
    std::fs::remove_file(&file).ok();
    echo
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
    let echo = post_echo(&host, b'x', 100_000);
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
    let echo = post_echo(&host, b'y', 300_000);
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
    host.expect_log_async("push-after-end: held promise pushed: Ok(())")
        .await;
    let held = ex
        .pushes
        .iter()
        .find(|(p, _)| p == "/asset/held")
        .expect("the held promise");
    assert_eq!(held.1.as_ref().unwrap().text(), "asset held\n");
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
    let (parent, pushed) = rec.frames.promises()[1];
    // The trap comes once the main body is whole (its END_STREAM seen): a
    // trap while it still streams would reset it too.
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter()
                .any(|f| f.stream == parent && f.kind == wire::DATA && f.flags & 0x1 != 0)
        })
        .await;
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

/// POSTs `chunks` to `/echo` (with `trailers`), the body streamed.
async fn post_in_chunks(
    host: &Host,
    chunks: &[usize],
    trailers: Option<(&'static str, &'static str)>,
) -> (u16, String) {
    use bytes::Bytes;
    let mut send = h2c::connect(host.addr, false).await;
    let request = http::Request::post(format!("http://{}/echo", host.addr))
        .body(())
        .unwrap();
    let (response, mut body) = send.send_request(request, false).unwrap();
    for n in chunks {
        body.send_data(Bytes::from(vec![b'x'; *n]), false).unwrap();
    }
    match trailers {
        Some((name, value)) => {
            let mut map = http::HeaderMap::new();
            map.insert(name, value.parse().unwrap());
            body.send_trailers(map).unwrap();
        }
        None => body.send_data(Bytes::new(), true).unwrap(),
    }
    let response = response.await.unwrap();
    let status = response.status().as_u16();
    let mut recv = response.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.unwrap();
        let _ = recv.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    (status, String::from_utf8_lossy(&text).into_owned())
}

/// The request's trailers reach a 0.3 guest; the body limit holds (the
/// guest's read fails past it; a declared length over it is a 413); the
/// memory limit turns an allocation over it into a named trap; past the
/// concurrency limit a request waits, then gets 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailers_and_every_limit_apply_to_p3_components() {
    let gate = support::gate::Gate::new();
    let host = Host::start(
        &guest("test_guests_p3"),
        &[
            "--max-body-bytes",
            "30000",
            "--memory-mb",
            "32",
            "--max-concurrent",
            "1",
            "--queue-timeout-ms",
            "100",
            "--allow-outbound-host",
            &gate.origin(),
        ],
    );
    let (status, text) = post_in_chunks(&host, &[1000, 20_000, 500], Some(("x-check", "done"))).await;
    assert_eq!((status, text.as_str()), (200, "POST /echo body=21500 trailers=1\n"));
    let (status, text) = post_in_chunks(&host, &[20_000, 20_000], None).await;
    assert_eq!(status, 500, "{text}");
    assert!(text.starts_with("request body failed"), "{text}");
    host.expect_log_async("POST /echo: request body over 30000 bytes: the guest's read fails")
        .await;
    let mut send = h2c::connect(host.addr, false).await;
    let request = http::Request::post(format!("http://{}/echo", host.addr))
        .header("content-length", 50_000)
        .body(())
        .unwrap();
    let (response, _body) = send.send_request(request, false).unwrap();
    assert_eq!(response.await.unwrap().status().as_u16(), 413);
    let alloc = h2c::get(&mut send, host.addr, "/alloc?mb=4").await;
    assert_eq!(alloc.response.text(), "allocated 4 MiB\n");
    let alloc = h2c::get(&mut send, host.addr, "/alloc?mb=64").await;
    assert_eq!(alloc.response.status, 500);
    host.expect_log_async("after the memory limit of 32 MiB was exceeded")
        .await;
    // One instance at a time: the second request queues, then gets 503.
    let mut first = send.clone();
    let addr = host.addr;
    let path = format!("/wait?url={}", gate.url());
    let waiting = tokio::spawn(async move { h2c::get(&mut first, addr, &path).await });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(20))
    ));
    let busy = h2c::get(&mut send, host.addr, "/hello").await;
    assert_eq!(busy.response.status, 503);
    gate.open();
    assert_eq!(waiting.await.unwrap().response.text(), "waited\n");
}

/// Over TLS (ALPN h2) with the admin port: a 0.3 component answers, and the
/// metrics count its requests and its pushes.
#[test]
fn a_p3_component_over_tls_is_counted_in_the_metrics() {
    let pki = support::pki::Pki::new("p3");
    let host = pki.start_with(
        &guest("test_guests_spin"),
        &["--admin-listen", "127.0.0.1:0", "--push-diary", "0"],
    );
    let ca = pki.ca.to_str().unwrap();
    let url = format!("https://localhost:{}/", host.addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", host.addr.port());
    let page = curl(&["-s", "--http2", "--cacert", ca, "--resolve", &resolve, &url]);
    assert!(page.contains("spin page"), "{page}");
    let verbose = nghttp(&["-nv", &format!("https://127.0.0.1:{}/", host.addr.port())]);
    assert_eq!(
        promised_paths(&received(&verbose)),
        ["/style.css", "/app.js"],
        "{verbose}"
    );
    let admin = host.expect_log("Admin endpoints on http://");
    let addr = admin.split("http://").nth(1).unwrap().trim_end_matches('/').to_string();
    let metrics = curl(&["-s", &format!("http://{addr}/metrics")]);
    assert!(
        metrics.contains(r#"push_host_requests_total{tenant="default",status="200",protocol="h2"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"push_host_pushes_total{tenant="default",outcome="sent"} 2"#),
        "{metrics}"
    );
}

/// `promise` makes 0.1's checks (method, origin, the push diary) and
/// `for-request` gives one pusher per request; a spinning handler gets the
/// deadline's 504.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promise_checks_and_the_deadline_apply_to_p3_handlers() {
    let host = Host::start(&guest("test_guests_p3"), &["--timeout-ms", "500"]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/promise-checks").await;
    let text = ex.response.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "second pusher: invalid: not a request push-host passed to this handler, or its pusher was already taken"
    );
    assert!(lines[1].starts_with("post: invalid: "), "{text}");
    assert!(lines[2].starts_with("foreign: invalid: "), "{text}");
    assert_eq!(lines[3], "fresh is-refused: false", "{text}");
    assert_eq!(
        lines[4], "twice: refused: the client reset or refused the promised stream",
        "{text}"
    );
    let pushes: Vec<_> = ex
        .pushes
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_ref().map(|r| r.text()).unwrap()))
        .collect();
    assert_eq!(pushes, [("/asset/twice", "asset twice\n".to_string())]);
    let spin = h2c::get(&mut send, host.addr, "/spin").await;
    assert_eq!(spin.response.status, 504);
    host.expect_log_async("GET /spin: 504: handler timed out after 500 ms")
        .await;
    let hello = h2c::get(&mut send, host.addr, "/hello").await;
    assert_eq!(hello.response.status, 200);
}

/// A promise made while the main body streams: its PUSH_PROMISE comes
/// after the DATA already sent and before the next DATA of the parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_while_the_body_streams_precedes_the_next_data() {
    let gate = support::gate::Gate::new();
    let host = Host::start(&guest("test_guests_p3"), &["--allow-outbound-host", &gate.origin()]);
    let rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
    let path = format!("/promise-while-streaming?url={}", gate.url());
    let mut send = rec.send.clone();
    let addr = host.addr;
    let exchange = tokio::spawn(async move { h2c::get(&mut send, addr, &path).await });
    rec.frames
        .wait_until(Duration::from_secs(20), |f| {
            f.iter().any(|f| f.kind == wire::DATA && f.stream == 1)
        })
        .await;
    assert!(rec.frames.promises().is_empty(), "no promise before the gate opens");
    gate.open();
    let ex = exchange.await.unwrap();
    assert_eq!(ex.response.text(), "first chunk\nsecond chunk\n");
    assert_eq!(ex.pushes.len(), 1, "{}", host.log());
    assert_eq!(ex.pushes[0].1.as_ref().unwrap().text(), "asset mid\n");
    let frames = rec.frames.all();
    let on_parent: Vec<u8> = frames.iter().filter(|f| f.stream == 1).map(|f| f.kind).collect();
    let promise = on_parent
        .iter()
        .position(|k| *k == wire::PUSH_PROMISE)
        .expect("a PUSH_PROMISE");
    let first_data = on_parent.iter().position(|k| *k == wire::DATA).unwrap();
    let later_data = on_parent.iter().rposition(|k| *k == wire::DATA).unwrap();
    assert!(first_data < promise && promise < later_data, "{frames:?}");
}

/// Tenants: a 0.3 tenant's preload links to another tenant's route are not
/// pushed; its own are.
#[test]
fn a_p3_tenant_pushes_only_its_own_routes() {
    let dir = std::env::temp_dir().join(format!("push-host-p3-tenants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for g in ["http2_service", "test_guests_spin"] {
        std::fs::copy(guest(g), dir.join(format!("{g}.wasm"))).unwrap();
    }
    let config = dir.join("hosting.toml");
    std::fs::write(
        &config,
        r#"
[[tenant]]
name = "spin"
module = "test_guests_spin.wasm"
routes = ["127.0.0.1/"]

[[tenant]]
name = "seed"
module = "http2_service.wasm"
routes = ["127.0.0.1/app.js"]
"#,
    )
    .unwrap();
    let host = Host::start_with(&["--config", config.to_str().unwrap()], "info");
    let verbose = nghttp(&["-nv", &format!("{}/", host.url())]);
    assert_eq!(promised_paths(&received(&verbose)), ["/style.css"], "{verbose}");
    host.expect_log("link /app.js not pushed: /app.js routes to another tenant");
    std::fs::remove_dir_all(&dir).ok();
}
