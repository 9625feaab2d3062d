//! Standard `wasi:http/incoming-handler` components served unchanged: the
//! world told apart at load time, `link: <...>; rel=preload` headers turned
//! into pushes (each filled by running the component again), streamed
//! bodies with trailers, failures with the same statuses and log lines as
//! `push:handler` guests, outgoing HTTP denied unless allowed, HTTP/1.1,
//! and tenants. The Rust components are built with the `wasip2` crate, the
//! JavaScript one with componentize-js (scripts/build-guests.sh).

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::gate::Gate;
use support::nghttp::{Recv, nghttp, received};
use support::{Host, guest, h2c, run_bounded, wire};

const STYLE: &str = "h1 { color: rebeccapurple; }\n";
const SCRIPT: &str = "document.body.insertAdjacentHTML('beforeend', '<p id=\"ran\">app.js ran</p>');\n";
const JS_STYLE: &str = "h1 { color: teal; }\n";

fn curl(args: &[&str]) -> (String, String) {
    let out = run_bounded(Command::new("curl").args(args), Duration::from_secs(30));
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn promised_paths(frames: &[Recv]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f.kind == "PUSH_PROMISE")
        .map(|f| f.field(":path").unwrap_or_default().to_string())
        .collect()
}

/// `nghttp -nv` on the page: two PUSH_PROMISEs (before the page's HEADERS),
/// the assets' bodies on the promised streams, no promise for the font on
/// another origin; `--no-push`: the same three `link` headers, no promise.
fn page_pushes_its_same_origin_preloads(module: &str, style: &str) {
    let host = Host::start(&guest(module), &[]);
    host.expect_log("world wasi:http/proxy");
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
    assert_eq!(frames[headers].fields_named("link").len(), 3, "{verbose}");
    assert!(!verbose.contains("fonts.example.net/face.woff2>") || !verbose.contains(":path: /face.woff2"));
    for (stream, body) in [(2, style), (4, SCRIPT)] {
        let data: u32 = frames
            .iter()
            .filter(|f| f.stream == stream && f.kind == "DATA")
            .map(|f| f.length)
            .sum();
        assert_eq!(data as usize, body.len(), "stream {stream}: {verbose}");
    }
    let bodies = nghttp(&[&url]);
    assert!(bodies.contains(style) && bodies.contains(SCRIPT), "{bodies}");
    host.expect_log("link https://fonts.example.net/face.woff2 not pushed: not this request's origin");
    let line = host.expect_log("GET /: handled in");
    assert!(line.contains("promised=2 pushed=2"), "{line}");

    let verbose = nghttp(&["-v", "--no-push", &url]);
    let frames = received(&verbose);
    assert!(promised_paths(&frames).is_empty(), "{verbose}");
    let page = frames
        .iter()
        .find(|f| f.field(":status") == Some("200"))
        .expect("the page");
    assert_eq!(
        page.fields_named("link"),
        [
            "</style.css>; rel=preload; as=style",
            "</app.js>; rel=preload; as=script",
            "<https://fonts.example.net/face.woff2>; rel=preload; as=font; crossorigin"
        ],
        "{verbose}"
    );
}

#[test]
fn a_rust_wasi_http_page_gets_its_preloads_pushed() {
    page_pushes_its_same_origin_preloads("wasi_http_page", STYLE);
}

#[test]
fn a_javascript_wasi_http_page_gets_its_preloads_pushed() {
    page_pushes_its_same_origin_preloads("wasi_http_page_js", JS_STYLE);
}

#[test]
fn link_push_off_keeps_the_links_and_pushes_nothing() {
    let host = Host::start(&guest("wasi_http_page"), &["--link-push", "off"]);
    let verbose = nghttp(&["-nv", &format!("{}/", host.url())]);
    let frames = received(&verbose);
    assert!(promised_paths(&frames).is_empty(), "{verbose}");
    assert_eq!(
        frames.iter().map(|f| f.fields_named("link").len()).sum::<usize>(),
        3,
        "{verbose}"
    );
}

#[test]
fn preload_pushes_respect_nopush_max_pushes_and_the_push_diary() {
    let host = Host::start(&guest("test_guests_http"), &["--max-pushes", "2"]);
    let page = format!("{}/links?n=3&foreign&nopush", host.url());
    let verbose = nghttp(&["-nv", &page]);
    // nopush and the other origin are never promised; the third asset is
    // over --max-pushes.
    assert_eq!(
        promised_paths(&received(&verbose)),
        ["/asset/1", "/asset/2"],
        "{verbose}"
    );
    host.expect_log("link /asset/3 not pushed: at most 2 pushes per request");
    // One connection, the page twice: the second finds both assets in the
    // push diary.
    let twice = format!("{}/links?n=2", host.url());
    let verbose = nghttp(&["-nv", "-m", "2", &twice]);
    assert_eq!(
        promised_paths(&received(&verbose)),
        ["/asset/1", "/asset/2"],
        "{verbose}"
    );
    host.expect_log("not pushed: already pushed or requested on this connection");
}

#[test]
fn a_streamed_body_arrives_under_flow_control_with_its_trailers() {
    let host = Host::start(&guest("test_guests_http"), &[]);
    // 300 KB: more than nghttp's 64 KiB stream window.
    let verbose = nghttp(&["-nv", &format!("{}/stream?chunks=60&size=5000", host.url())]);
    let frames = received(&verbose);
    let data: Vec<&Recv> = frames.iter().filter(|f| f.kind == "DATA").collect();
    assert_eq!(data.iter().map(|f| f.length).sum::<u32>(), 300_000, "{verbose}");
    assert!(data.len() >= 60, "one frame or more per chunk: {}", data.len());
    assert!(
        data.iter().all(|f| f.flags == "0x00"),
        "DATA never ends the stream: trailers do"
    );
    let trailers = frames.last().unwrap();
    assert_eq!(trailers.kind, "HEADERS", "{verbose}");
    assert_eq!(trailers.flags, "0x05", "END_STREAM | END_HEADERS: {verbose}");
    assert_eq!(trailers.field("x-chunks"), Some("60"));
    assert_eq!(trailers.field("x-bytes"), Some("300000"));
    // The body's bytes, in order.
    let (body, _) = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/stream?chunks=3&size=4", host.url()),
    ]);
    assert_eq!(body, "aaaabbbbcccc");
}

#[test]
fn failures_get_the_same_statuses_and_log_lines_as_push_guests() {
    let host = Host::start(&guest("test_guests_http"), &["--timeout-ms", "500"]);
    let status = |path: &str| {
        let (out, _) = curl(&[
            "-s",
            "--http2-prior-knowledge",
            "-w",
            "\n%{http_code}",
            &format!("{}{path}", host.url()),
        ]);
        out
    };
    let out = status("/error-code");
    assert!(out.ends_with("\n500") && out.contains("error-code"), "{out}");
    host.expect_log("GET /error-code: 500: the component answered with error-code ErrorCode::InternalError(Some(\"test-guests-http: boom\"))");
    let out = status("/trap");
    assert!(
        out.starts_with("guest trapped: unreachable") && out.ends_with("\n500"),
        "{out}"
    );
    host.expect_log("GET /trap: 500: guest trapped");
    assert!(status("/none").ends_with("\n500"));
    host.expect_log("GET /none: 500: handler returned without a response");
    assert!(status("/spin").ends_with("\n504"));
    host.expect_log("GET /spin: 504: handler timed out after 500 ms");
    // The host goes on serving.
    assert!(status("/asset/ok").starts_with("asset ok"));
}

#[test]
fn the_guest_sees_the_request_as_sent() {
    let host = Host::start(&guest("test_guests_http"), &[]);
    let (out, _) = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "-H",
        "x-test: one",
        "--data-binary",
        "a body",
        &format!("{}/echo?q=1", host.url()),
    ]);
    assert!(out.starts_with("method POST\nscheme http\n"), "{out}");
    assert!(out.contains(&format!("authority {}\n", host.addr)), "{out}");
    assert!(
        out.contains("path /echo?q=1\n") && out.contains("h x-test: one\n"),
        "{out}"
    );
    assert!(out.ends_with("body a body\n"), "{out}");
}

#[test]
fn outgoing_requests_are_denied_unless_the_host_is_allowed() {
    let target = Host::start(&guest("hello"), &[]);
    let fetch = |host: &Host| {
        let (out, _) = curl(&[
            "-s",
            "--http2-prior-knowledge",
            &format!("{}/fetch?url=http://127.0.0.1:{}/", host.url(), target.addr.port()),
        ]);
        out
    };
    let closed = Host::start(&guest("test_guests_http"), &[]);
    assert_eq!(fetch(&closed), "error: ErrorCode::HttpRequestDenied\n");
    closed.expect_log(&format!(
        "outgoing request to http://127.0.0.1:{}/ denied: not in the tenant's allowed_outbound_hosts",
        target.addr.port()
    ));
    // A guest that loops on denied requests: four lines, then one total.
    let (out, _) = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/fetch?url=http://127.0.0.1:9/&times=1000", closed.url()),
    ]);
    assert_eq!(out, "error: ErrorCode::HttpRequestDenied\n");
    closed.expect_log("1000 outgoing requests denied in all (the first 4 logged)");
    assert_eq!(
        closed.log().matches("denied: not in the tenant's").count(),
        5,
        "{}",
        closed.log()
    );
    let other_port = format!("http://127.0.0.1:{}", target.addr.port() + 1);
    let elsewhere = Host::start(&guest("test_guests_http"), &["--allow-outbound-host", &other_port]);
    assert_eq!(fetch(&elsewhere), "error: ErrorCode::HttpRequestDenied\n");
    let allowed = format!("http://127.0.0.1:{}", target.addr.port());
    let open = Host::start(&guest("test_guests_http"), &["--allow-outbound-host", &allowed]);
    let out = fetch(&open);
    assert!(out.starts_with("status 200\n"), "{out}");
    target.expect_log("HTTP/1.1 GET /: handled in");
    // A malformed entry stops start-up with one line.
    let out = run_bounded(
        Command::new(support::push_host_bin()).args([
            "--module",
            guest("test_guests_http").to_str().unwrap(),
            "--allow-outbound-host",
            "api.example.com",
        ]),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("has no scheme"), "{stderr}");
}

#[test]
fn over_http1_the_response_streams_with_its_links_and_trailers() {
    let host = Host::start(&guest("test_guests_http"), &[]);
    let (body, _) = curl(&["-s", "--http1.1", "-D", "-", &format!("{}/links?n=2", host.url())]);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("link: </asset/1>; rel=preload; as=fetch\r\n"), "{body}");
    assert!(body.ends_with("<p>page</p>\n"), "{body}");
    let (body, _) = curl(&["-s", "--http1.1", &format!("{}/stream?chunks=5&size=3", host.url())]);
    assert_eq!(body, "aaabbbcccdddeee");
    // Chunked, with the guest's trailers for a client that asks for them.
    let (raw, _) = curl(&[
        "-s",
        "--http1.1",
        "--raw",
        "-H",
        "TE: trailers",
        &format!("{}/stream?chunks=2&size=3", host.url()),
    ]);
    assert!(
        raw.contains("x-chunks: 2\r\n") && raw.contains("x-bytes: 6\r\n"),
        "{raw:?}"
    );
}

/// Streamed, not held whole: a 20 MB body whose guest stops at the test's
/// gate after the first 10 MB. Those 10 MB reach the client while the guest
/// is held (over HTTP/1.1 and over h2); then the gate opens and the rest
/// follows. Broken (the body read whole before it is sent): nothing arrives
/// while the gate is closed, and the bounded read fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_body_reaches_the_client_while_the_guest_is_still_writing_it() {
    const HALF: usize = 10_000_000;
    let gate = Gate::new();
    let host = Host::start(&guest("test_guests_http"), &["--allow-outbound-host", &gate.origin()]);
    let path = format!("/stream?chunks=5000&size=4000&gate={}", gate.url());
    // HTTP/1.1, read from a plain socket.
    let addr = host.addr;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    let mut got = 0;
    let mut buf = vec![0; 1 << 16];
    while got < HALF {
        let n = socket
            .read(&mut buf)
            .expect("the first half arrives while the guest is held");
        assert!(n > 0, "closed after {got} bytes");
        got += n;
    }
    // The gate is still closed: the guest has not written the second half.
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    gate.open();
    let mut rest = Vec::new();
    socket.read_to_end(&mut rest).unwrap();
    assert!(got + rest.len() > 2 * HALF, "{} bytes in all", got + rest.len());
    assert!(
        String::from_utf8_lossy(&rest).ends_with("0\r\n\r\n"),
        "a chunked body, ended"
    );
    // h2: the same through the flow-control window.
    let gate = Gate::new();
    let host = Host::start(&guest("test_guests_http"), &["--allow-outbound-host", &gate.origin()]);
    let path = format!("/stream?chunks=5000&size=4000&gate={}", gate.url());
    let mut send = h2c::connect(host.addr, true).await;
    let request = http::Request::get(format!("{}{path}", host.url())).body(()).unwrap();
    let (response, _) = send.send_request(request, true).unwrap();
    let mut body = response.await.unwrap().into_body();
    let mut got = 0;
    while got < HALF {
        let chunk = tokio::time::timeout(Duration::from_secs(30), body.data())
            .await
            .expect("the first half arrives while the guest is held")
            .expect("more body")
            .unwrap();
        got += chunk.len();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    gate.open();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        got += chunk.len();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    assert_eq!(got, 2 * HALF);
}

#[test]
fn a_wasi_http_tenant_pushes_only_its_own_routes_and_has_its_own_outbound_hosts() {
    let dir = std::env::temp_dir().join(format!("push-host-wasi-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for g in ["http2_service", "test_guests_http"] {
        std::fs::copy(guest(g), dir.join(format!("{g}.wasm"))).unwrap();
    }
    let file = dir.join("hosting.toml");
    std::fs::write(
        &file,
        r#"
[[tenant]]
name = "web"
module = "test_guests_http.wasm"
routes = ["127.0.0.1/links", "127.0.0.1/asset", "127.0.0.1/fetch"]
allowed_outbound_hosts = ["http://localhost:*"]

[[tenant]]
name = "closed"
module = "test_guests_http.wasm"
routes = ["closed.test"]

[[tenant]]
name = "seed"
module = "http2_service.wasm"
routes = ["127.0.0.1/other", "localhost"]
"#,
    )
    .unwrap();
    let host = Host::start_with(&["--config", file.to_str().unwrap()], "info");
    host.expect_log("world wasi:http/proxy");
    host.expect_log("world push:handler/service");
    let verbose = nghttp(&["-nv", &format!("{}/links?n=1&cross", host.url())]);
    assert_eq!(promised_paths(&received(&verbose)), ["/asset/1"], "{verbose}");
    host.expect_log("link /other/x.css not pushed: /other/x.css routes to another tenant");
    // The tenant's allowed_outbound_hosts lets it reach the seed tenant
    // (over HTTP/1.1, where the seed's promises become link headers).
    let (out, _) = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("{}/fetch?url=http://localhost:{}/x", host.url(), host.addr.port()),
    ]);
    assert_eq!(out, "status 200\n{\"response\":{\"name\":\"main resource\"}}", "{out}");
    // Another tenant of the same module, with no allowed_outbound_hosts,
    // is denied the same request: the list is the tenant's, not the
    // process's.
    let (out, _) = curl(&[
        "-s",
        "-H",
        "host: closed.test",
        &format!("{}/fetch?url=http://localhost:{}/x", host.url(), host.addr.port()),
    ]);
    assert_eq!(out, "error: ErrorCode::HttpRequestDenied\n", "{out}");
    host.expect_log("tenant=closed");
    // A bad entry is an error naming the file and line.
    std::fs::write(
        &file,
        "[[tenant]]\nname = \"w\"\nmodule = \"test_guests_http.wasm\"\nroutes = [\"localhost\"]\nallowed_outbound_hosts = [\"ftp://x\"]\n",
    )
    .unwrap();
    let out = run_bounded(
        Command::new(support::push_host_bin()).args(["--config", file.to_str().unwrap(), "--check"]),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("hosting.toml:5: tenant \"w\": allowed_outbound_hosts"),
        "{stderr}"
    );
}

#[test]
fn a_head_request_gets_the_headers_and_no_body() {
    let host = Host::start(&guest("wasi_http_page"), &[]);
    let verbose = nghttp(&["-v", "-H", ":method: HEAD", &format!("{}/style.css", host.url())]);
    let frames = received(&verbose);
    let head = frames.iter().find(|f| f.field(":status").is_some()).expect("headers");
    assert_eq!(head.field(":status"), Some("200"), "{verbose}");
    assert_eq!(head.flags, "0x05", "END_STREAM on the headers: {verbose}");
    assert!(!frames.iter().any(|f| f.kind == "DATA"), "{verbose}");
    let line = host.expect_log("HEAD /style.css: handled in");
    assert!(line.contains("status=200"), "{line}");
    assert!(!host.log().contains("trapped"), "{}", host.log());
}

/// Sends POST `/count` with `chunks` (the last one followed by `trailers`),
/// waiting after the first chunk for the guest to have started; returns the
/// status and body.
async fn post_in_chunks(
    host: &Host,
    chunks: &[usize],
    content_length: Option<usize>,
    trailers: Option<(&'static str, &'static str)>,
) -> (u16, String) {
    use bytes::Bytes;
    let mut send = support::h2c::connect(host.addr, false).await;
    let mut request = http::Request::post(format!("http://{}/count", host.addr));
    if let Some(len) = content_length {
        request = request.header("content-length", len);
    }
    let (response, mut body) = send.send_request(request.body(()).unwrap(), false).unwrap();
    for (i, n) in chunks.iter().enumerate() {
        body.send_data(Bytes::from(vec![b'x'; *n]), false).unwrap();
        if i == 0 {
            // The guest runs while the rest of the body is still to come.
            host.expect_log_async("stderr: count: started").await;
        }
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

#[tokio::test]
async fn the_request_body_streams_to_the_guest_with_its_trailers() {
    let host = Host::start(&guest("test_guests_http"), &[]);
    // The guest starts (and says so) after the first chunk, before the
    // client has sent the rest: the body is not read whole first.
    let (status, text) = post_in_chunks(&host, &[1000, 20_000, 500], None, Some(("x-check", "done"))).await;
    assert_eq!((status, text.as_str()), (200, "21500 bytes x-check=done\n"));
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_fails_the_guests_read() {
    let host = Host::start(&guest("test_guests_http"), &["--max-body-bytes", "1500"]);
    let (status, text) = post_in_chunks(&host, &[1000, 1000], None, None).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.starts_with("body error: "), "{text}");
    host.expect_log_async("POST /count: request body over 1500 bytes: the guest's read fails")
        .await;
    // A declared length over the limit is refused before the guest runs.
    let mut send = support::h2c::connect(host.addr, false).await;
    let request = http::Request::post(format!("http://{}/count", host.addr))
        .header("content-length", 5000)
        .body(())
        .unwrap();
    let (response, _body) = send.send_request(request, false).unwrap();
    assert_eq!(response.await.unwrap().status().as_u16(), 413);
    host.expect_log_async("POST /count: request body exceeds 1500 bytes: 413, handler not run")
        .await;
    assert_eq!(host.log().matches("count: started").count(), 1, "{}", host.log());
}

#[test]
fn a_page_with_many_links_gets_max_pushes_and_a_bounded_log() {
    let host = Host::start(&guest("test_guests_http"), &["--max-pushes", "2"]);
    let verbose = nghttp(&["-nv", &format!("{}/links?n=500&foreign", host.url())]);
    assert_eq!(
        promised_paths(&received(&verbose)),
        ["/asset/1", "/asset/2"],
        "{verbose}"
    );
    host.expect_log("link /asset/3 not pushed: at most 2 pushes per request");
    host.expect_log("499 preload links not pushed in all");
    assert_eq!(host.log().matches("not pushed").count(), 2, "{}", host.log());
}

/// A `wasi:http` guest that traps after its response body started (a 200,
/// 7 bytes written and flushed; once they are on the wire the test opens
/// its gate and the guest panics) gets its stream reset with INTERNAL_ERROR
/// at once, not at the deadline (60 s here; the test gives up after 20),
/// the request is logged as a trap and counted as one, and the connection
/// goes on serving. Broken (the body waited for until the deadline, as
/// before): no reset within 20 s, and the log says `timed out`. A guest that
/// traps after setting its response but before any of it was sent gets a
/// plain `500` naming the trap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_after_the_body_started_resets_the_stream_at_once() {
    let gate = Gate::new();
    let host = Host::start(
        &guest("test_guests_http"),
        &[
            "--timeout-ms",
            "60000",
            "--admin-listen",
            "127.0.0.1:0",
            "--allow-outbound-host",
            &gate.origin(),
        ],
    );
    let mut rec = wire::connect(host.addr, &h2::client::Builder::new()).await;
    let request = http::Request::get(format!("{}/trap-after-body?gate={}", host.url(), gate.url()))
        .body(())
        .unwrap();
    let (response, _) = rec.send.send_request(request, true).unwrap();
    let response = response.await.expect("the guest's 200");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = body.data().await.expect("the first bytes").unwrap();
    assert_eq!(&first[..], b"partial");
    gate.open();
    // RST_STREAM(INTERNAL_ERROR) on stream 1, long before the 60 s
    // deadline (the wait panics after 20 s).
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
    let err = body.data().await.expect("an error, not the end").unwrap_err();
    assert_eq!(err.reason(), Some(h2::Reason::INTERNAL_ERROR), "{err}");
    let mut send = rec.send.clone();
    let line = host
        .expect_log_async("guest trapped: unreachable executed (a guest panic or abort) after the response was sent")
        .await;
    assert!(
        line.contains("GET /trap-after-body?gate=") && line.contains("status=200"),
        "{line}"
    );
    assert!(!host.log().contains("timed out"), "{}", host.log());
    // The connection goes on serving.
    let asset = h2c::get(&mut send, host.addr, "/asset/ok").await;
    assert_eq!(asset.response.status, 200);
    let admin = host.expect_log("Admin endpoints on http://");
    let addr = admin.split("http://").nth(1).unwrap().trim_end_matches('/').to_string();
    let metrics = tokio::task::spawn_blocking(move || curl(&["-s", &format!("http://{addr}/metrics")]).0)
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"push_host_guest_failures_total{tenant="default",kind="trap"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains(r#"kind="timeout""#), "{metrics}");
    // Set, then a trap before anything went out: a plain 500.
    let set = h2c::get(&mut send, host.addr, "/trap-after-set").await;
    assert_eq!(set.response.status, 500);
    assert!(
        set.response.text().starts_with("guest trapped: unreachable"),
        "{}",
        set.response.text()
    );
}

/// A `wasi:http` page's pushes come from fresh instances, read whole: one
/// whose instance traps (`/trap`) or whose body is over 16 MiB (20 MB) is
/// reset with CANCEL and logged, while a 4 MB one and the page's own asset
/// arrive whole. Broken (a failed push left open, or no size cap): the
/// push's outcome is not a CANCEL, or the 20 MB body is pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_oversized_pushes_are_reset_with_cancel() {
    let host = Host::start(&guest("test_guests_http"), &[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/links?n=1&fail&big=5000").await;
    assert_eq!(ex.response.status, 200);
    let outcome = |path: &str| {
        ex.pushes
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no push of {path}: {:?}", ex.promises))
            .1
            .as_ref()
    };
    assert_eq!(outcome("/asset/1").expect("pushed").text(), "asset 1\n");
    let trapped = outcome("/trap").expect_err("reset");
    assert!(trapped.starts_with("CANCEL"), "{trapped}");
    let big = outcome("/stream?chunks=5000&size=4096").expect_err("reset");
    assert!(big.starts_with("CANCEL"), "{big}");
    host.expect_log_async("push /trap: not pushed: guest trapped").await;
    host.expect_log_async("not pushed: body over 16777216 bytes").await;
    // Under the cap: pushed whole.
    let ex = h2c::get(&mut send, host.addr, "/links?n=0&big=1000").await;
    let (path, pushed) = &ex.pushes[0];
    assert_eq!(path, "/stream?chunks=1000&size=4096");
    assert_eq!(pushed.as_ref().expect("pushed").body.len(), 4_096_000);
}
