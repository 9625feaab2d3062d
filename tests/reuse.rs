//! Opt-in instance reuse (`--instance-reuse N`, `instance_reuse` per
//! tenant): one instance serves up to N requests in turn, for each world
//! (push:handler 0.1, wasi:http 0.2, wasi:http 0.3 with push 0.2). What it
//! keeps and what it never does: a counter in the guest's memory goes 1, 2,
//! 3 and starts again; a trap, a deadline or a refused memory growth ends
//! the instance; the deadline is each request's; no instance crosses
//! tenants; pushes land on the request being handled; a kept instance's
//! memory counts against the budget while it is kept.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::{Host, guest, h2c};

/// The three test guests, one per world, each with a `/state` counter.
const WORLDS: [&str; 3] = ["test_guests", "test_guests_http", "test_guests_p3"];

/// The `/state` counter's answers to `n` requests in turn on one connection.
async fn counts(host: &Host, n: usize) -> Vec<String> {
    let mut send = h2c::connect(host.addr, true).await;
    let mut seen = Vec::new();
    for _ in 0..n {
        let ex = h2c::get(&mut send, host.addr, "/state").await;
        assert_eq!(ex.response.status, 200, "{}", ex.response.text());
        seen.push(ex.response.text());
    }
    seen
}

#[tokio::test]
async fn a_kept_instance_counts_up_to_its_reuse_and_a_fresh_one_always_says_1() {
    for world in WORLDS {
        let host = Host::start(&guest(world), &["--instance-reuse", "3", "--max-concurrent", "1"]);
        assert_eq!(counts(&host, 7).await, ["1", "2", "3", "1", "2", "3", "1"], "{world}");
        let host = Host::start(&guest(world), &["--max-concurrent", "1"]);
        assert_eq!(
            counts(&host, 3).await,
            ["1", "1", "1"],
            "{world}: reuse is off by default"
        );
    }
}

#[tokio::test]
async fn a_trapped_instance_is_never_used_again() {
    for world in WORLDS {
        let host = Host::start(&guest(world), &["--instance-reuse", "100", "--max-concurrent", "1"]);
        assert_eq!(counts(&host, 2).await, ["1", "2"], "{world}");
        let mut send = h2c::connect(host.addr, true).await;
        let trap = h2c::get(&mut send, host.addr, "/trap").await;
        assert_eq!(trap.response.status, 500, "{world}");
        assert_eq!(
            counts(&host, 2).await,
            ["1", "2"],
            "{world}: a fresh instance after the trap"
        );
    }
}

#[tokio::test]
async fn a_deadline_hit_in_one_request_does_not_touch_the_next() {
    // The 0.1 guest: /spin-ms spins as long as asked; the deadline is 400 ms.
    let host = Host::start(
        &guest("test_guests"),
        &[
            "--instance-reuse",
            "100",
            "--max-concurrent",
            "1",
            "--timeout-ms",
            "400",
        ],
    );
    let mut send = h2c::connect(host.addr, true).await;
    // Each request has the whole deadline: four of 150 ms on one instance
    // (600 ms in all) each finish.
    for _ in 0..4 {
        let ex = h2c::get(&mut send, host.addr, "/spin-ms?ms=150").await;
        assert_eq!(ex.response.status, 200, "{}", ex.response.text());
    }
    assert_eq!(counts(&host, 1).await, ["1"]);
    let spin = h2c::get(&mut send, host.addr, "/spin").await;
    assert_eq!(spin.response.status, 504);
    // The next request: a fresh instance, its own deadline, answered.
    assert_eq!(counts(&host, 2).await, ["1", "2"]);
    let ex = h2c::get(&mut send, host.addr, "/spin-ms?ms=150").await;
    assert_eq!(ex.response.status, 200);
    // The same for a 0.3 component.
    let host = Host::start(
        &guest("test_guests_p3"),
        &[
            "--instance-reuse",
            "100",
            "--max-concurrent",
            "1",
            "--timeout-ms",
            "400",
        ],
    );
    assert_eq!(counts(&host, 2).await, ["1", "2"]);
    let mut send = h2c::connect(host.addr, true).await;
    let spin = h2c::get(&mut send, host.addr, "/spin").await;
    assert_eq!(spin.response.status, 504);
    assert_eq!(counts(&host, 2).await, ["1", "2"]);
}

/// A hosting file with two tenants serving the same component (copied in),
/// each keeping instances.
fn two_tenants() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("push-host-reuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(guest("test_guests"), dir.join("test_guests.wasm")).unwrap();
    let file = dir.join("hosting.toml");
    std::fs::write(
        &file,
        r#"
[defaults]
instance_reuse = 100
max_concurrent = 1

[[tenant]]
name = "a"
module = "test_guests.wasm"
routes = ["127.0.0.1"]

[[tenant]]
name = "b"
module = "test_guests.wasm"
routes = ["localhost"]
"#,
    )
    .unwrap();
    file
}

#[tokio::test]
async fn reuse_never_crosses_tenants() {
    let file = two_tenants();
    let host = Host::start_with(&["--config", file.to_str().unwrap()], "info");
    let mut send = h2c::connect(host.addr, true).await;
    let mut seen = Vec::new();
    for tenant in ["a", "b", "a", "b", "a"] {
        let count = if tenant == "a" {
            h2c::get(&mut send, host.addr, "/state").await.response.text()
        } else {
            let url = format!("http://localhost:{}/state", host.addr.port());
            let out = support::run_bounded(
                std::process::Command::new("curl").args(["-s", "--http2-prior-knowledge", &url]),
                Duration::from_secs(30),
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        seen.push(format!("{tenant}={count}"));
    }
    assert_eq!(seen, ["a=1", "b=1", "a=2", "b=2", "a=3"]);
}

#[tokio::test]
async fn pushes_land_on_the_request_being_handled() {
    // push:handler 0.1: three requests on one kept instance, each with its
    // own promises and pushes (the guest's /state shows the instance kept).
    let host = Host::start(
        &guest("test_guests"),
        &["--instance-reuse", "100", "--max-concurrent", "1", "--push-diary", "0"],
    );
    assert_eq!(counts(&host, 1).await, ["1"]);
    let mut send = h2c::connect(host.addr, true).await;
    for n in [2, 3, 1] {
        let ex = h2c::get(&mut send, host.addr, &format!("/promise-n?n={n}")).await;
        assert_eq!(ex.response.text(), format!("promised {n}"));
        let pushed: Vec<_> = ex
            .pushes
            .iter()
            .map(|(path, reply)| format!("{path} {}", reply.as_ref().map(|r| r.text()).unwrap_or_default()))
            .collect();
        let expected: Vec<_> = (0..n).map(|i| format!("/n/{i} n/{i}")).collect();
        assert_eq!(pushed, expected);
    }
    assert_eq!(counts(&host, 1).await, ["2"], "one instance served them all");

    // push:handler 0.2: a pusher a guest kept from an earlier request is
    // closed; this request's own promises and pushes are its own.
    let host = Host::start(
        &guest("test_guests_p3"),
        &["--instance-reuse", "100", "--max-concurrent", "1", "--push-diary", "0"],
    );
    let mut send = h2c::connect(host.addr, true).await;
    let first = h2c::get(&mut send, host.addr, "/stale-pusher").await;
    assert_eq!(first.response.text(), "none kept\n");
    let second = h2c::get(&mut send, host.addr, "/stale-pusher").await;
    assert!(
        second.response.text().starts_with("earlier pusher: closed: "),
        "{}",
        second.response.text()
    );
    assert!(first.promises.is_empty() && second.promises.is_empty());
    for n in [2, 3] {
        let ex = h2c::get(&mut send, host.addr, &format!("/promises?n={n}")).await;
        assert_eq!(ex.response.text(), format!("ok={n} limit-exceeded=0 other=0\n"));
        let pushed: Vec<_> = ex.pushes.iter().map(|(path, _)| path.clone()).collect();
        let expected: Vec<_> = (0..n).map(|i| format!("/asset/p{i}")).collect();
        assert_eq!(pushed, expected);
    }
    assert_eq!(counts(&host, 1).await, ["1"]);
    assert_eq!(counts(&host, 1).await, ["2"], "one instance served them all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_instance_s_memory_counts_against_the_budget() {
    // Budget 48 MiB; each /alloc?mb=24 leaves its instance over 24 MiB.
    let gate = support::gate::Gate::new();
    let origin = gate.origin();
    let host = Host::start(
        &guest("test_guests_p3"),
        &[
            "--instance-reuse",
            "100",
            "--max-concurrent",
            "2",
            "--memory-budget-mb",
            "48",
            "--allow-outbound-host",
            &origin,
        ],
    );
    let mut send = h2c::connect(host.addr, true).await;
    // Instance A waits at the gate while instance B allocates and is kept.
    let (mut first, addr, path) = (send.clone(), host.addr, format!("/wait?url={}", gate.url()));
    let waiting = tokio::spawn(async move { h2c::get(&mut first, addr, &path).await });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(20))
    ));
    let b = h2c::get(&mut send, host.addr, "/alloc?mb=24").await;
    assert_eq!(b.response.text(), "allocated 24 MiB\n");
    gate.open();
    assert_eq!(waiting.await.unwrap().response.text(), "waited\n");
    // A was kept last, so it serves next: its growth does not fit beside
    // the idle B's memory.
    let a = h2c::get(&mut send, host.addr, "/alloc?mb=24").await;
    assert_eq!(a.response.status, 500, "{}", a.response.text());
    host.expect_log_async("did not fit in the memory budget of 48 MiB")
        .await;
}
