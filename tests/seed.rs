//! The seed scenario end to end: the real `push-host` binary serving the
//! `http2-service` example, seen by a raw `h2` client.

mod support;

use std::time::{Duration, Instant};

use support::h2c::{self, Ask};
use support::raw::{self, RawClient};
use support::wire::{self, Frame, Frames};
use support::{Host, guest};

const MAIN: &str = r#"{"response":{"name":"main resource"}}"#;

fn seed_host() -> Host {
    // Tests here repeat the seed on one connection; the push diary (which
    // would refuse the repeats) has its own tests in connection.rs.
    Host::start(&guest("http2_service"), &["--push-diary", "0"])
}

fn push_body(n: u32) -> String {
    format!(r#"{{"push":{{"name":"resource{n}"}}}}"#)
}

#[tokio::test]
async fn three_promises_arrive_before_the_body_with_the_request_authority() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/http2Service").await;

    let paths: Vec<_> = ex.promises.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/resource1", "/resource2", "/resource3"]);
    for p in &ex.promises {
        assert_eq!(p.authority, host.addr.to_string(), "promise {p:?}");
        assert_eq!(p.scheme, "http");
        assert_eq!(p.method, "GET");
    }
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), MAIN);
    assert_eq!(ex.response.headers["content-type"], "application/json");
    let pushes: Vec<_> = ex
        .pushes
        .iter()
        .map(|(path, r)| {
            let r = r.as_ref().expect("push delivered");
            assert_eq!(r.status, 200);
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
}

/// `--native-seed` (benchmarks only) serves the same exchange as the wasm
/// seed, through the same host checks: same promises, bodies and headers.
#[tokio::test]
async fn the_native_seed_serves_the_same_exchange_as_the_wasm_seed() {
    let wasm = seed_host();
    let native = Host::start_with(&["--native-seed"], "info");
    let mut exchanges = Vec::new();
    for host in [&wasm, &native] {
        let mut rec = wire::connect(host.addr, h2::client::Builder::new().enable_push(true)).await;
        let ex = h2c::get(&mut rec.send, host.addr, "/http2Service").await;
        assert_eq!(rec.frames.assert_promises_before_response(1), 3);
        let pushes: Vec<(String, u16, String, String)> = ex
            .pushes
            .iter()
            .map(|(path, r)| {
                let r = r.as_ref().expect("push delivered");
                (
                    path.clone(),
                    r.status,
                    r.headers["content-type"].to_str().unwrap().to_string(),
                    r.text(),
                )
            })
            .collect();
        let promises: Vec<(String, String, String)> = ex
            .promises
            .iter()
            .map(|p| (p.method.clone(), p.path.clone(), p.scheme.clone()))
            .collect();
        exchanges.push((
            ex.response.status,
            ex.response.headers["content-type"].to_str().unwrap().to_string(),
            ex.response.text(),
            promises,
            pushes,
        ));
    }
    assert_eq!(exchanges[0], exchanges[1]);
    assert_eq!(exchanges[1].2, MAIN);
    native.expect_log("GET /http2Service: handled in");
}

#[tokio::test]
async fn any_path_is_served_like_the_seed_default_resource() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/some/other?x=1").await;
    assert_eq!(ex.response.text(), MAIN);
    assert_eq!(ex.promises.len(), 3);
    assert_eq!(ex.pushes.len(), 3);
}

#[tokio::test]
async fn rejecting_resource2_keeps_the_other_pushes_and_the_connection() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let reject = ["/resource2"];
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/http2Service",
        Ask {
            reject: &reject,
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.promises.len(), 3);
    assert_eq!(ex.response.text(), MAIN);
    let got: Vec<_> = ex
        .pushes
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_ref().expect("push delivered").text()))
        .collect();
    assert_eq!(got, [("/resource1", push_body(1)), ("/resource3", push_body(3))]);
    // The connection is still good for the next request.
    let again = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert_eq!(again.response.text(), MAIN);
    assert_eq!(again.pushes.len(), 3);
}

/// Order on the wire, from the frames as they came off the socket: every
/// PUSH_PROMISE precedes the response's HEADERS, for the seed and for a
/// guest that promises between two slow steps.
#[tokio::test]
async fn every_push_promise_precedes_the_response_headers_on_the_wire() {
    let seed = seed_host();
    let mut rec = wire::connect(seed.addr, h2::client::Builder::new().enable_push(true)).await;
    let ex = h2c::get(&mut rec.send, seed.addr, "/http2Service").await;
    assert_eq!(ex.pushes.len(), 3);
    assert_eq!(rec.frames.assert_promises_before_response(1), 3);

    let guests = Host::start(&guest("test_guests"), &[]);
    let mut rec = wire::connect(guests.addr, h2::client::Builder::new().enable_push(true)).await;
    let ex = h2c::get(&mut rec.send, guests.addr, "/promise-n?n=3&spin_ms=150").await;
    assert_eq!(ex.response.text(), "promised 3");
    assert_eq!(ex.pushes.len(), 3);
    assert_eq!(rec.frames.assert_promises_before_response(1), 3);
}

/// The wire-order check itself fails on a PUSH_PROMISE after the HEADERS.
#[test]
#[should_panic(expected = "came after its response HEADERS")]
fn the_wire_order_check_rejects_a_late_promise() {
    let frame = |kind, stream, word| Frame {
        kind,
        flags: 0,
        stream,
        word,
        len: 0,
    };
    Frames::from_frames(vec![
        frame(wire::PUSH_PROMISE, 1, 2),
        frame(wire::HEADERS, 1, 0),
        frame(wire::PUSH_PROMISE, 1, 4),
    ])
    .assert_promises_before_response(1);
}

/// Two parents promise while the server cannot write (the client has
/// stopped reading, and a large response fills the socket), so both parents'
/// PUSH_PROMISEs would sit in `h2`'s queues together, which `h2` writes
/// round-robin. The promised ids on the wire must still increase (RFC 9113
/// §5.1.1), and both requests complete with all their pushes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promised_ids_increase_on_the_wire_across_interleaved_parents() {
    let host = Host::start_logging(
        &guest("test_guests"),
        &["--memory-mb", "128", "--push-diary", "0"],
        "info,push_host=debug",
    );
    let mut builder = h2::client::Builder::new();
    builder
        .enable_push(true)
        .initial_window_size(16 << 20)
        .initial_connection_window_size(64 << 20);
    let rec = wire::connect_with_recv_buffer(host.addr, &builder, Some(64 << 10)).await;

    // 1. Stop reading; a large response (and its push) fills the socket.
    rec.gate.close();
    let large = {
        let mut send = rec.send.clone();
        let addr = host.addr;
        tokio::spawn(async move { h2c::get(&mut send, addr, "/large?bytes=8388608").await })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while wire::server_send_queue(host.addr, rec.local).unwrap_or(0) < 256 << 10 {
        assert!(Instant::now() < deadline, "the server's writes never backed up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // 2. Two parents promise three paths each while nothing can be written.
    let mut parents = Vec::new();
    for _ in 0..2 {
        let mut send = rec.send.clone();
        let addr = host.addr;
        parents.push(tokio::spawn(async move {
            h2c::get(&mut send, addr, "/promise-n?n=3").await
        }));
    }
    // Both have promised (without the ordering rule), or one has and the
    // other waits for its PUSH_PROMISEs to be written (with it).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = host.log();
        let promised = log.matches("promise-n: promised 3").count();
        let waiting = log.contains("a promise waits for the PUSH_PROMISE of stream");
        if promised == 2 || promised == 1 && waiting {
            break;
        }
        assert!(Instant::now() < deadline, "the parents never promised; log:\n{log}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // 3. Read again: everything flows.
    rec.gate.open();
    let large = large.await.expect("large request");
    assert_eq!(large.response.body.len(), 8 << 20);
    for parent in parents {
        let ex = parent.await.expect("parent request");
        assert_eq!(ex.response.text(), "promised 3");
        let bodies: Vec<String> = ex
            .pushes
            .iter()
            .map(|(_, r)| r.as_ref().expect("pushed").text())
            .collect();
        assert_eq!(bodies, ["n/0", "n/1", "n/2"]);
    }
    let promised: Vec<u32> = rec.frames.promises().iter().map(|(_, id)| *id).collect();
    assert_eq!(promised.len(), 7, "{promised:?}");
    assert!(
        promised.windows(2).all(|w| w[0] < w[1]),
        "promised ids out of order on the wire: {promised:?}"
    );
    assert!(
        rec.frames.all().iter().all(|f| f.kind != wire::GOAWAY),
        "{:?}",
        rec.frames.all()
    );
}

/// Push disabled is read from the client's SETTINGS frames: in its first
/// SETTINGS (h2 client with push off) and in a later SETTINGS on a
/// connection that had push on (raw frames).
#[tokio::test]
async fn push_disabled_is_read_from_the_clients_settings_first_or_later() {
    let host = seed_host();
    // Later in the connection: push on for stream 1, off for stream 3.
    let mut client = RawClient::connect(host.addr, &[]).await;
    client.get(1, "/http2Service").await;
    let first = client.read_until_end(1).await;
    let promises = first.iter().filter(|f| f.kind == raw::PUSH_PROMISE).count();
    assert_eq!(promises, 3, "{first:?}");
    client.settings(&[(raw::ENABLE_PUSH, 0)]).await;
    client.get(3, "/http2Service").await;
    let second = client.read_until_end(3).await;
    assert!(
        second
            .iter()
            .all(|f| f.kind != raw::PUSH_PROMISE && f.kind != raw::GOAWAY),
        "{second:?}"
    );
    assert!(
        second
            .iter()
            .any(|f| f.kind == raw::DATA && f.stream == 3 && f.payload == MAIN.as_bytes()),
        "{second:?}"
    );
    for n in 1..=3 {
        let line = host.expect_log(&format!(
            "stream=3 GET /http2Service stderr: Error occurred while sending the promise{n}"
        ));
        assert!(
            line.ends_with("push-disabled: the client disabled server push"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_client_with_push_disabled_still_gets_the_response() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, false).await;
    let ex = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert!(ex.promises.is_empty());
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), MAIN);
    // The guest logs each failed promise as the seed does; the host forwards it.
    let line = host
        .wait_for_log("Error occurred while sending the promise1", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("guest stderr not forwarded; log:\n{}", host.log()));
    assert!(
        line.contains("stream=1"),
        "guest log lines are tagged with the stream: {line}"
    );
    assert!(
        line.ends_with("push-disabled: the client disabled server push"),
        "{line}"
    );
}

#[tokio::test]
async fn many_streams_on_one_connection_run_concurrently() {
    let host = seed_host();
    let send = h2c::connect(host.addr, true).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let mut send = send.clone();
        let addr = host.addr;
        tasks.push(tokio::spawn(async move {
            let ex = h2c::get(&mut send, addr, &format!("/http2Service?i={i}")).await;
            assert_eq!(ex.response.text(), MAIN);
            assert_eq!(ex.pushes.len(), 3);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn no_state_survives_between_requests() {
    let host = Host::start(&guest("test_guests"), &[]);
    for _ in 0..2 {
        let mut send = h2c::connect(host.addr, true).await;
        for _ in 0..3 {
            let ex = h2c::get(&mut send, host.addr, "/state").await;
            assert_eq!(ex.response.status, 200);
            assert_eq!(ex.response.text(), "1", "a fresh instance per request");
        }
    }
}

/// What the wire order guarantees (ARCHITECTURE.md), from the frames as
/// received: every PUSH_PROMISE precedes the main response's HEADERS, and a
/// pushed body sent under flow control (over 16 KiB) is handed to `h2` only
/// once the main body has been, so no pushed DATA frame comes before all
/// but the main body's last queued chunk (at most 64 KiB) is on the wire.
/// Broken (the pushed body not waiting for the main one): pushed DATA takes
/// the window early and the count of main bytes before it falls short.
#[tokio::test]
async fn large_pushed_bodies_follow_the_main_body_on_the_wire() {
    const N: u32 = 600_000;
    const LAST_CHUNK: u32 = 64 << 10;
    let host = Host::start(&guest("test_guests"), &[]);
    let mut rec = wire::connect(host.addr, &h2::client::Builder::new()).await;
    let ex = h2c::get(&mut rec.send, host.addr, &format!("/large?bytes={N}")).await;
    assert_eq!(ex.response.body.len(), N as usize);
    assert_eq!(ex.pushes[0].1.as_ref().expect("pushed").body.len(), N as usize);
    let frames = rec.frames.all();
    assert_eq!(rec.frames.assert_promises_before_response(1), 1);
    let first_pushed = frames
        .iter()
        .position(|f| f.kind == wire::DATA && f.stream == 2)
        .expect("pushed DATA");
    let main_before: u32 = frames[..first_pushed]
        .iter()
        .filter(|f| f.kind == wire::DATA && f.stream == 1)
        .map(|f| f.len)
        .sum();
    assert!(
        main_before >= N - LAST_CHUNK,
        "only {main_before} of the main body's {N} bytes came before the first pushed DATA"
    );
}
