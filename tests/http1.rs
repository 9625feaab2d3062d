//! HTTP/1.1 (hyper) on the cleartext port, told apart from HTTP/2 by its
//! first bytes: the same handler, limits, statuses and log line, with
//! promised paths as `link` headers since HTTP/1.1 cannot push. (HTTP/1.1
//! over TLS, chosen by ALPN, is in `tls.rs`.)

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::{Host, guest, h2c, run_bounded};

fn curl(args: &[&str]) -> String {
    let out = run_bounded(Command::new("curl").args(args), Duration::from_secs(30));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "curl {args:?} failed:\n{text}");
    text
}

#[test]
fn the_seed_over_http1_sends_its_promises_as_link_headers() {
    let host = Host::start(&guest("http2_service"), &[]);
    let out = curl(&["-si", "--http1.1", &format!("{}/http2Service", host.url())]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    for n in 1..=3 {
        assert!(
            out.contains(&format!("link: </resource{n}>; rel=preload; as=fetch; crossorigin\r\n")),
            "{out}"
        );
    }
    assert!(out.ends_with(r#"{"response":{"name":"main resource"}}"#), "{out}");
    // The guest learns that push is off, the log has the usual line.
    host.expect_log("Error occurred while sending the promise1: push-disabled");
    host.expect_log("req=1 HTTP/1.1 GET /http2Service: handled in");
}

#[test]
fn http1_and_http2_share_the_port() {
    let host = Host::start(&guest("test_guests"), &[]);
    let h1 = curl(&["-s", "--http1.1", &format!("{}/hello", host.url())]);
    let h2 = curl(&["-s", "--http2-prior-knowledge", &format!("{}/hello", host.url())]);
    assert_eq!((h1.as_str(), h2.as_str()), ("hello", "hello"));
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let host = Host::start(&guest("test_guests"), &[]);
    let url = format!("{}/hello", host.url());
    let out = curl(&["-sv", "--http1.1", &url, &url, &url]);
    // stdout (the bodies) comes first in `out`, then curl's verbose log.
    assert!(out.starts_with("hellohellohello*"), "{out}");
    assert_eq!(out.matches("Re-using existing connection").count(), 2, "{out}");
    host.expect_log("req=3 HTTP/1.1 GET /hello: handled in");
}

#[test]
fn the_guest_sees_the_request_as_over_http2() {
    let host = Host::start(&guest("test_guests"), &[]);
    let out = curl(&[
        "-s",
        "--http1.1",
        "-H",
        "x-test: 1",
        "--data-binary",
        "abc",
        &format!("{}/info?q=1", host.url()),
    ]);
    let info: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(info["method"], "POST");
    assert_eq!(info["scheme"], "http");
    assert_eq!(info["authority"], host.addr.to_string());
    assert_eq!(info["path"], "/info?q=1");
    assert_eq!(info["body_len"], 3);
    let names: Vec<&str> = info["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[0].as_str().unwrap())
        .collect();
    assert!(names.contains(&"x-test"), "{names:?}");
    assert!(!names.contains(&"host"), "host is the authority: {names:?}");
}

#[test]
fn failures_get_the_same_statuses_and_log_lines_as_over_http2() {
    let host = Host::start(
        &guest("test_guests"),
        &["--timeout-ms", "300", "--max-body-bytes", "1000"],
    );
    let status = |path: &str, extra: &[&str]| {
        let url = format!("{}{path}", host.url());
        let mut args = vec!["-s", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}"];
        args.extend_from_slice(extra);
        args.push(&url);
        curl(&args)
    };
    assert_eq!(status("/trap", &[]), "500");
    host.expect_log("HTTP/1.1 GET /trap: 500: guest trapped");
    assert_eq!(status("/spin", &[]), "504");
    host.expect_log("HTTP/1.1 GET /spin: 504: handler timed out after 300 ms");
    let big = "x".repeat(2000);
    assert_eq!(status("/echo", &["--data-binary", &big]), "413");
    host.expect_log("HTTP/1.1 POST /echo: request body exceeds 1000 bytes: 413, handler not run");
    assert_eq!(status("/no-response", &[]), "500");
    assert_eq!(status("/hello", &[]), "200");
}

#[test]
fn a_request_without_host_gets_400() {
    let host = Host::start(&guest("test_guests"), &[]);
    let mut socket = std::net::TcpStream::connect(host.addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    socket.write_all(b"GET /hello HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = String::new();
    let _ = socket.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{reply}");
    host.expect_log("400: no valid Host header, handler not run");
}

/// An HTTP/1.1 client that stops in the middle of its request body costs
/// nothing else: with one instance slot and no queueing, any slot or
/// request the cut request kept would make the next request a 503. The
/// test waits for the host's line about the cut request first. Broken (the
/// slot kept): the hello is a 503.
#[tokio::test]
async fn an_http1_client_that_stops_mid_request_costs_nothing_else() {
    let host = Host::start(
        &guest("test_guests"),
        &[
            "--max-concurrent",
            "1",
            "--queue-timeout-ms",
            "0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
    );
    let mut socket = std::net::TcpStream::connect(host.addr).unwrap();
    socket
        .write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc")
        .unwrap();
    drop(socket);
    host.expect_log_async("HTTP/1.1 POST /echo: request body not received")
        .await;
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
    h2c::assert_hello(&mut send, host.addr).await;
    let admin = host.expect_log("Admin endpoints on http://");
    let admin = admin.split("http://").nth(1).unwrap().trim_end_matches('/').to_string();
    let metrics = curl(&["-s", &format!("http://{admin}/metrics")]);
    assert!(
        metrics.contains(r#"push_host_instances_in_use{tenant="default"} 0"#),
        "{metrics}"
    );
}

/// An HTTP/1.1 client that goes away while its handler runs does not cut
/// the handler short: it runs to its end and the request gets its log line
/// (the handler runs in the connection's task until it has answered, and
/// goes on on its own when hyper drops that). Broken (the handler dropped
/// with the connection): no `GET /gate` line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http1_client_that_leaves_while_its_handler_runs_still_gets_it_logged() {
    let gate = support::gate::Gate::new();
    let host = Host::start_logging(
        &guest("test_guests"),
        &["--allow-outbound-host", &gate.origin()],
        "info,push_host::server::http1=debug",
    );
    let mut socket = std::net::TcpStream::connect(host.addr).unwrap();
    let request = format!("GET /gate?url={} HTTP/1.1\r\nhost: x\r\n\r\n", gate.url());
    socket.write_all(request.as_bytes()).unwrap();
    host.expect_log_async("gate: waiting").await;
    drop(socket);
    // hyper sees the connection end while the guest still waits.
    host.expect_log_async("conn=1: closed").await;
    gate.open();
    let line = host.expect_log_async(": handled in").await;
    assert!(line.contains("HTTP/1.1 GET /gate"), "{line}");
}

/// The frames in `bytes` as (type, flags, stream, payload).
fn frames(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 9 {
        let len = usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff;
        let payload = bytes[9..(9 + len).min(bytes.len())].to_vec();
        out.push((bytes[3], bytes[4], stream, payload));
        bytes = &bytes[(9 + len).min(bytes.len())..];
    }
    assert!(bytes.is_empty(), "a partial frame: {bytes:?}");
    out
}

/// What the server answers `first` with, up to its close.
fn answer_to(host: &Host, first: &[u8]) -> Vec<u8> {
    let mut socket = std::net::TcpStream::connect(host.addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    socket.write_all(first).unwrap();
    let mut reply = Vec::new();
    let _ = socket.read_to_end(&mut reply);
    reply
}

/// `--http1 off` (an h2c-only port, e.g. behind a TLS-terminating proxy):
/// bytes that are not the HTTP/2 preface get SETTINGS, then GOAWAY with
/// PROTOCOL_ERROR (RFC 9113 section 3.4), then the close; not an HTTP/1.1
/// answer. A preface that goes wrong late is refused the same way, and
/// HTTP/2 is still served. Broken (the flag ignored): the reply is
/// `HTTP/1.1 400` and no frame parses.
#[tokio::test]
async fn with_http1_off_an_invalid_preface_gets_goaway_protocol_error() {
    let host = Host::start(&guest("test_guests"), &["--http1", "off"]);
    for first in [
        &b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"[..],
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
    ] {
        let reply = answer_to(&host, first);
        let frames = frames(&reply);
        let kinds: Vec<u8> = frames.iter().map(|f| f.0).collect();
        assert_eq!(kinds, [0x4, 0x7], "SETTINGS, GOAWAY: {reply:?}");
        let goaway = &frames[1].3;
        assert_eq!(&goaway[..4], [0, 0, 0, 0], "last stream 0");
        assert_eq!(&goaway[4..8], [0, 0, 0, 1], "PROTOCOL_ERROR");
    }
    let lines = host.expect_log_lines(
        "invalid HTTP/2 connection preface (HTTP/1.1 is off): GOAWAY(PROTOCOL_ERROR)",
        2,
    );
    assert_eq!(lines.len(), 2);
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
    // On by default: the same first bytes are an HTTP/1.1 request.
    let open = Host::start(&guest("test_guests"), &[]);
    let reply = answer_to(&open, b"GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert!(
        reply.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
}

/// `http1 = false` in the hosting file's `[defaults]` is the same switch.
#[tokio::test]
async fn http1_false_in_the_hosting_file_makes_the_port_h2_only() {
    let dir = std::env::temp_dir().join(format!("push-host-http1-off-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hosting.toml");
    let module = guest("test_guests");
    std::fs::write(
        &file,
        format!(
            "[defaults]\nhttp1 = false\n\n[[tenant]]\nname = \"a\"\nmodule = {:?}\nroutes = [\"127.0.0.1\"]\n",
            module.to_str().unwrap()
        ),
    )
    .unwrap();
    let host = Host::start_with(&["--config", file.to_str().unwrap()], "info");
    let reply = answer_to(&host, b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n");
    assert_eq!(frames(&reply).iter().map(|f| f.0).collect::<Vec<_>>(), [0x4, 0x7]);
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
}

/// An HTTP/1.1 connection that never completes a request head is closed
/// after the idle timeout, as is one that goes quiet after a request
/// (keep-alive). Broken (no header read timeout): the socket stays open and
/// the 10 s read bound fails.
#[test]
fn an_http1_connection_without_a_request_head_is_closed_after_the_idle_timeout() {
    let host = Host::start(&guest("test_guests"), &["--idle-timeout-s", "0.5"]);
    let closed_within_10s = |socket: &mut std::net::TcpStream| {
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut rest = Vec::new();
        match socket.read_to_end(&mut rest) {
            Ok(_) => rest,
            Err(e) => panic!("still open after 10 s ({e}); read {rest:?}"),
        }
    };
    // Part of a head, then nothing.
    let mut partial = std::net::TcpStream::connect(host.addr).unwrap();
    partial.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n").unwrap();
    closed_within_10s(&mut partial);
    host.expect_log("HTTP/1.1 connection ended");
    // A whole request, kept alive, then nothing.
    let mut idle = std::net::TcpStream::connect(host.addr).unwrap();
    idle.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let reply = closed_within_10s(&mut idle);
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.starts_with("HTTP/1.1 200 OK\r\n") && reply.ends_with("hello"),
        "{reply}"
    );
}
