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
    let echo = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "--data-binary",
        &"x".repeat(100_000),
        &format!("{}/echo", host.url()),
    ]);
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
