//! Sandbox limits: runaway, greedy and hostile guests (from `test-guests`)
//! against the real `push-host` with small limits. Each test checks the
//! status, the log line naming the cause, and that a normal request is served
//! afterwards.

mod support;

use std::time::{Duration, Instant};

use support::h2c;
use support::{Host, guest};

fn test_host(args: &[&str]) -> Host {
    Host::start(&guest("test_guests"), args)
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_deadline_with_504() {
    let host = test_host(&["--timeout-ms", "300"]);
    let mut send = h2c::connect(host.addr, true).await;
    let started = Instant::now();
    let r = h2c::get(&mut send, host.addr, "/spin").await.response;
    let took = started.elapsed();
    assert_eq!(r.status, 504);
    assert!(r.text().contains("timed out after 300 ms"), "{}", r.text());
    host.expect_log("GET /spin: 504: handler timed out after 300 ms");
    // Not a timing assertion on speed: only that the deadline was enforced at all.
    assert!(took >= Duration::from_millis(300), "{took:?}");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn a_guest_parked_in_a_host_call_is_stopped_too() {
    let host = test_host(&["--timeout-ms", "300"]);
    let mut send = h2c::connect(host.addr, true).await;
    let r = h2c::get(&mut send, host.addr, "/sleep?ms=60000").await.response;
    assert_eq!(r.status, 504);
    host.expect_log("GET /sleep?ms=60000: 504: handler timed out after 300 ms");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn a_spinning_request_delays_neither_other_connections_nor_other_streams() {
    // A deadline far beyond the test: /spin is certainly still running when
    // the other requests end (the host is killed when the test ends).
    let host = test_host(&["--timeout-ms", "600000"]);
    let spin_conn = h2c::connect(host.addr, true).await;
    let addr = host.addr;
    let mut spin_send = spin_conn.clone();
    let spinning = tokio::spawn(async move { h2c::get(&mut spin_send, addr, "/spin").await });
    host.expect_log_async("GET /spin stdout: spin: started").await;

    // Another connection.
    let mut other = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut other, host.addr).await;
    assert!(!spinning.is_finished(), "hello finished while /spin still runs");
    // Another stream on the spinning request's own connection.
    let mut same = spin_conn.clone();
    h2c::assert_hello(&mut same, host.addr).await;
    assert!(
        !spinning.is_finished(),
        "hello on the same connection finished while /spin runs"
    );
}

#[tokio::test]
async fn unbounded_allocation_gets_500_and_the_pool_recycles_memory() {
    let host = test_host(&["--memory-mb", "32"]);
    let mut send = h2c::connect(host.addr, true).await;
    let r = h2c::get(&mut send, host.addr, "/oom").await.response;
    assert_eq!(r.status, 500);
    assert!(r.text().contains("memory limit of 32 MiB"), "{}", r.text());
    host.expect_log("memory limit of 32 MiB was exceeded");
    h2c::assert_hello(&mut send, host.addr).await;

    let before = support::rss_kib(host.pid());
    for _ in 0..30 {
        let r = h2c::get(&mut send, host.addr, "/oom").await.response;
        assert_eq!(r.status, 500);
    }
    h2c::assert_hello(&mut send, host.addr).await;
    let after = support::rss_kib(host.pid());
    eprintln!("RSS before 30 out-of-memory requests: {before} KiB, after: {after} KiB");
    // 30 x 32 MiB were touched; a leak of even one instance's memory shows.
    assert!(
        after < before + 24 * 1024,
        "RSS grew from {before} KiB to {after} KiB after 30 out-of-memory requests"
    );
}

/// The only instance slot is held by a guest at the test's gate, so the
/// next request certainly finds none free: it waits the queue timeout, then
/// gets 503 with `retry-after`; once the gate opens, requests are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_instance_limit_requests_wait_then_get_503_with_retry_after() {
    let gate = support::gate::Gate::new();
    let host = test_host(&[
        "--max-concurrent",
        "1",
        "--queue-timeout-ms",
        "200",
        "--allow-outbound-host",
        &gate.origin(),
    ]);
    let addr = host.addr;
    let mut busy = h2c::connect(host.addr, true).await;
    let path = format!("/gate?url={}", gate.url());
    let holder = tokio::spawn(async move { h2c::get(&mut busy, addr, &path).await });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    let mut other = h2c::connect(host.addr, true).await;
    let r = h2c::get(&mut other, host.addr, "/hello").await.response;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"], "1");
    host.expect_log("GET /hello: 503: no instance free within 200 ms");
    gate.open();
    let held = holder.await.unwrap();
    assert_eq!(held.response.text(), "gate opened");
    h2c::assert_hello(&mut other, host.addr).await;
}

/// A request that finds the only slot taken (by a guest at the test's
/// gate) queues, and is served once the gate opens and the slot frees,
/// after the holder's own line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_is_served_when_an_instance_frees_before_the_queue_timeout() {
    let gate = support::gate::Gate::new();
    let host = Host::start_logging(
        &guest("test_guests"),
        &[
            "--max-concurrent",
            "1",
            "--queue-timeout-ms",
            "600000",
            "--allow-outbound-host",
            &gate.origin(),
        ],
        "info,push_host=debug",
    );
    let addr = host.addr;
    let mut busy = h2c::connect(host.addr, true).await;
    let path = format!("/gate?url={}", gate.url());
    let holder = tokio::spawn(async move { h2c::get(&mut busy, addr, &path).await });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    let mut other = h2c::connect(host.addr, true).await;
    let hello = tokio::spawn(async move { h2c::get(&mut other, addr, "/hello").await });
    host.expect_log_async("GET /hello: queued: all 1 instances busy").await;
    gate.open();
    let hello = hello.await.unwrap();
    assert_eq!((hello.response.status, hello.response.text().as_str()), (200, "hello"));
    // It ran only once the gate's request had finished (its log line is
    // written after the response ends: wait for it).
    host.expect_log_async("GET /hello: handled").await;
    let gated = host
        .log_position(&format!("GET /gate?url={}: handled", gate.url()))
        .expect("the gate's request");
    let served = host.log_position("GET /hello: handled").expect("hello handled");
    assert!(gated < served, "log:\n{}", host.log());
    assert_eq!(holder.await.unwrap().response.text(), "gate opened");
}

#[tokio::test]
async fn timeout_ms_0_runs_without_a_deadline() {
    // The control: the same request past a 1000 ms deadline is stopped...
    let limited = test_host(&["--timeout-ms", "1000"]);
    let mut send = h2c::connect(limited.addr, true).await;
    let r = h2c::get(&mut send, limited.addr, "/spin-ms?ms=1500").await.response;
    assert_eq!(r.status, 504, "{}", r.text());
    // ...and with --timeout-ms 0 it runs to the end.
    let unlimited = test_host(&["--timeout-ms", "0"]);
    let mut send = h2c::connect(unlimited.addr, true).await;
    let r = h2c::get(&mut send, unlimited.addr, "/spin-ms?ms=1500").await.response;
    assert_eq!((r.status, r.text().as_str()), (200, "spun 1500 ms"));
    let r = h2c::get(&mut send, unlimited.addr, "/sleep?ms=1500").await.response;
    assert_eq!((r.status, r.text().as_str()), (200, "slept 1500 ms"));
}

#[tokio::test]
async fn stream_and_connection_caps() {
    let host = Host::start_logging(
        &guest("test_guests"),
        &["--max-streams", "2", "--max-connections", "1"],
        "info,push_host=debug",
    );
    let tcp = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    let (send, mut conn) = h2::client::handshake(tcp).await.unwrap();
    // Drive the connection through one request, so the server's SETTINGS are in.
    let mut send = send;
    tokio::select! {
        _ = h2c::assert_hello(&mut send, host.addr) => {}
        _ = &mut conn => panic!("connection closed"),
    }
    assert_eq!(conn.max_concurrent_send_streams(), 2, "SETTINGS_MAX_CONCURRENT_STREAMS");
    tokio::spawn(async move {
        let _ = conn.await;
    });

    // A second connection, opened (TCP) while the first is open, is not
    // served until the first closes: the host's log shows the cap, and the
    // second connection's HTTP/2 start only after the first one's end.
    host.expect_log("connection cap of 1 reached");
    let addr = host.addr;
    let mut second = h2c::connect(addr, true).await;
    let second = tokio::spawn(async move { h2c::get(&mut second, addr, "/hello").await });
    drop(send);
    let ex = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("second connection served after the first closed")
        .unwrap();
    assert_eq!(ex.response.text(), "hello");
    host.expect_log("conn=1: closed");
    host.expect_log("conn=2: HTTP/2 connection from");
    let first_closed = host.log_position("conn=1: closed").expect("first connection closed");
    let second_started = host
        .log_position("conn=2: HTTP/2 connection from")
        .expect("second connection");
    assert!(first_closed < second_started, "log:\n{}", host.log());
}

#[tokio::test]
async fn nothing_from_the_host_leaks_into_the_guest() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let text = h2c::get(&mut send, host.addr, "/env").await.response.text();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines[0], "vars=0", "{text}");
    assert_eq!(lines[1], "args=0", "{text}");
    assert!(lines[2].starts_with("read_dir=err"), "{text}");
    // The guest tried the host's own listening address (open: the test is
    // talking to it), a UDP bind and a DNS lookup: each denied by the sandbox.
    assert!(lines[3].starts_with("tcp=err PermissionDenied"), "{text}");
    assert!(lines[4].starts_with("udp=err PermissionDenied"), "{text}");
    // wasmtime answers a lookup the guest may not make with
    // PERMANENT_RESOLVER_FAILURE (Rust's std: "Non-recoverable error"); a
    // lookup of `localhost` that was allowed would succeed.
    assert!(
        lines[5].starts_with("dns=err") && lines[5].contains("Non-recoverable error"),
        "{text}"
    );
}

/// Request header lists are limited to 16 KiB (SETTINGS_MAX_HEADER_LIST_SIZE).
#[tokio::test]
async fn a_header_list_over_16_kib_is_refused_and_the_connection_lives() {
    let host = test_host(&[]);
    let mut send = h2c::connect(host.addr, true).await;
    let fits = "x".repeat(15 * 1024);
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/hello",
        h2c::Ask {
            headers: vec![("x-big", fits.as_str())],
            ..h2c::Ask::default()
        },
    )
    .await;
    assert_eq!(ex.response.status, 200);
    let too_big = "x".repeat(17 * 1024);
    let result = h2c::try_exchange(
        &mut send,
        host.addr,
        "/hello",
        h2c::Ask {
            headers: vec![("x-big", too_big.as_str())],
            ..h2c::Ask::default()
        },
    )
    .await;
    let status = result.as_ref().map(|ex| ex.response.status);
    // h2 answers it itself, before the host sees a request.
    assert_eq!(status.ok(), Some(431), "{result:?}");
    h2c::assert_hello(&mut send, host.addr).await;
}

#[tokio::test]
async fn overload_gets_503s_never_a_crash() {
    let host = test_host(&["--max-concurrent", "2", "--queue-timeout-ms", "50"]);
    let mut tasks = Vec::new();
    for c in 0..4 {
        let send = h2c::connect(host.addr, true).await;
        for i in 0..40 {
            let mut send = send.clone();
            let addr = host.addr;
            tasks.push(tokio::spawn(async move {
                let path = format!("/spin-ms?ms=20&c={c}&i={i}");
                h2c::get(&mut send, addr, &path).await.response.status
            }));
        }
    }
    let mut ok = 0;
    let mut busy = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            503 => busy += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 2 && busy > 0, "ok={ok} busy={busy}");
    let mut send = h2c::connect(host.addr, true).await;
    h2c::assert_hello(&mut send, host.addr).await;
}

/// The pool keeps up to 4 MiB of each slot's touched pages warm for the
/// next instance; once no instance has started for 5 s they go back to the
/// kernel, and the process's RSS falls back. Eight instances of 8 MiB
/// each held at once leave 8 warm slots (32 MiB) behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_host_gives_the_pool_s_warm_pages_back() {
    let gate = support::gate::Gate::new();
    let host = test_host(&["--max-concurrent", "8", "--allow-outbound-host", &gate.origin()]);
    support::hold_at_gate(&host, &gate, 8, 8).await;
    let busy = support::rss_kib(host.pid());
    let line = tokio::task::block_in_place(|| {
        host.wait_for_log("of the instance pool's warm pages given back", Duration::from_secs(30))
    })
    .expect("the warm pages given back after 5 s idle");
    let idle = support::rss_kib(host.pid());
    assert!(
        busy.saturating_sub(idle) >= 24 * 1024,
        "RSS {busy} KiB busy, {idle} KiB idle: {line}"
    );
}

/// The process's memory budget: far below max_concurrent × memory_mb, it
/// bounds what all live instances hold together. Growths past it fail like
/// growths past the per-instance cap (a trap, 500, a log line naming the
/// budget); what was reserved comes back when each instance ends. The six
/// requests certainly overlap: each that got its 16 MiB holds it at the
/// test's gate until all six have either got theirs or failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_budget_bounds_all_instances_together() {
    // 10 instances × 64 MiB could take 640 MiB; the budget is 48.
    let gate = support::gate::Gate::new();
    let host = test_host(&[
        "--memory-budget-mb",
        "48",
        "--max-concurrent",
        "10",
        "--allow-outbound-host",
        &gate.origin(),
    ]);
    let rss_before = support::rss_kib(host.pid());
    let mut send = h2c::connect(host.addr, true).await;
    let mut tasks = Vec::new();
    let path = format!("/hold?mb=16&gate={}", gate.url());
    for _ in 0..6 {
        let (mut send, addr, path) = (send.clone(), host.addr, path.clone());
        tasks.push(tokio::spawn(async move {
            h2c::get(&mut send, addr, &path).await.response.status
        }));
    }
    tokio::task::block_in_place(|| {
        host.wait_until(Duration::from_secs(30), |log| {
            log.matches("hold: holding 16 MiB").count() + log.matches("did not fit in the memory budget").count() == 6
        })
    });
    gate.open();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (1..=2).contains(&ok),
        "16 MiB each: at most 2 fit in 48 MiB: {statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 200 || *s == 500), "{statuses:?}");
    host.expect_log("did not fit in the memory budget of 48 MiB (all instances and the pool's warm pages together)");
    let rss_after = support::rss_kib(host.pid());
    assert!(
        rss_after < rss_before + 80 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    // Everything was given back: one instance can take 40 MiB now.
    let ex = h2c::get(&mut send, host.addr, "/hold?mb=40&ms=0").await;
    assert_eq!((ex.response.status, ex.response.text().as_str()), (200, "held 40 MiB"));
}
