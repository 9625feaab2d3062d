//! `--instance-concurrency M` (`instance_concurrency` per tenant): one
//! `wasi:http@0.3` instance serves up to M requests at once. The guest's
//! `/together` waits at a gate the test holds and then says how many
//! requests its instance had in `handle` at once, so "at once" is seen from
//! inside the instance, with no timer. Also: what a failure in one request
//! does to the others in its instance, and that other worlds are refused.

mod support;

use std::time::Duration;

use support::gate::Gate;
use support::{Host, guest, h2c, run_bounded};

const WAIT: Duration = Duration::from_secs(30);

/// Sends `n` `/together` requests at once on one connection; returns the
/// tasks (each: status and body).
async fn together(host: &Host, gate: &Gate, n: usize) -> Vec<tokio::task::JoinHandle<(u16, String)>> {
    let send = h2c::connect(host.addr, true).await;
    let path = format!("/together?url={}", gate.url());
    (0..n)
        .map(|_| {
            let (mut send, addr, path) = (send.clone(), host.addr, path.clone());
            tokio::spawn(async move {
                let ex = h2c::get(&mut send, addr, &path).await;
                (ex.response.status, ex.response.text())
            })
        })
        .collect()
}

async fn answers(tasks: Vec<tokio::task::JoinHandle<(u16, String)>>) -> Vec<String> {
    let mut out = Vec::new();
    for t in tasks {
        let (status, text) = t.await.unwrap();
        assert_eq!(status, 200, "{text}");
        out.push(text.trim().to_string());
    }
    out
}

fn host(args: &[&str], gate: &Gate) -> Host {
    let mut all = vec!["--allow-outbound-host", gate.origin().leak()];
    all.extend_from_slice(args);
    Host::start(&guest("test_guests_p3"), &all)
}

/// 4 requests at once per instance, 100 in all, deadline `timeout_ms`.
fn shared_host(timeout_ms: &str, gate: &Gate) -> Host {
    host(
        &[
            "--instance-concurrency",
            "4",
            "--instance-reuse",
            "100",
            "--timeout-ms",
            timeout_ms,
        ],
        gate,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_at_once_share_an_instance_up_to_the_concurrency() {
    for (concurrency, expect) in [("4", "max 4"), ("2", "max 2"), ("1", "max 1")] {
        let gate = Gate::new();
        let host = host(
            &["--instance-concurrency", concurrency, "--instance-reuse", "100"],
            &gate,
        );
        let tasks = together(&host, &gate, 4).await;
        // All four are inside a guest's `handle` before any goes on.
        let arrived = tokio::task::block_in_place(|| gate.wait_arrivals(4, WAIT));
        assert!(arrived, "only {} of 4 arrived", gate.arrivals());
        gate.open();
        assert_eq!(
            answers(tasks).await,
            [expect; 4],
            "--instance-concurrency {concurrency}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_in_a_shared_instance_pushes_on_its_own_stream() {
    let gate = Gate::new();
    let host = shared_host("10000", &gate);
    let send = h2c::connect(host.addr, true).await;
    let tasks: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let (mut send, addr) = (send.clone(), host.addr);
            let path = format!("/together?url={}&push={name}", gate.url());
            tokio::spawn(async move { (name, h2c::get(&mut send, addr, &path).await) })
        })
        .collect();
    // All three wait in one instance, each holding its own pusher...
    assert!(tokio::task::block_in_place(|| gate.wait_arrivals(3, WAIT)));
    gate.open();
    for task in tasks {
        let (name, ex) = task.await.unwrap();
        assert_eq!(ex.response.text().trim(), "max 3", "{name}");
        // ...and each push lands on its own request's stream.
        let paths: Vec<&str> = ex.pushes.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, [format!("/asset/{name}")], "{name}");
        let pushed = ex.pushes[0].1.as_ref().expect("pushed");
        assert_eq!(pushed.text(), format!("asset {name}\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_ends_its_instance_and_the_requests_in_it_and_the_next_gets_a_new_one() {
    let gate = Gate::new();
    let host = shared_host("10000", &gate);
    let mut send = h2c::connect(host.addr, true).await;
    for expect in ["1", "2"] {
        let ex = h2c::get(&mut send, host.addr, "/state").await;
        assert_eq!(ex.response.text(), expect, "one instance serves requests in turn too");
    }
    // One request waits in the instance while another traps there.
    let waiting = together(&host, &gate, 1).await;
    assert!(tokio::task::block_in_place(|| gate.wait_arrivals(1, WAIT)));
    let trap = h2c::get(&mut send, host.addr, "/trap").await;
    assert_eq!(trap.response.status, 500);
    let (status, _) = waiting.into_iter().next().unwrap().await.unwrap();
    assert_eq!(status, 500, "the request waiting in the trapped instance fails too");
    let stopped = host.expect_log("shared instance 0: stopped (");
    assert!(stopped.contains("unreachable"), "{stopped}");
    assert!(stopped.contains("with 2 request(s) in it"), "{stopped}");
    // A new instance: the counter starts again.
    let ex = h2c::get(&mut send, host.addr, "/state").await;
    assert_eq!(ex.response.text(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_guest_answered_with_an_error_code_takes_no_new_request() {
    let gate = Gate::new();
    let host = shared_host("10000", &gate);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/state").await;
    assert_eq!(ex.response.text(), "1");
    let ex = h2c::get(&mut send, host.addr, "/error-code").await;
    assert_eq!(ex.response.status, 500);
    // As a kept instance would be dropped: the next request gets a new one.
    let ex = h2c::get(&mut send, host.addr, "/state").await;
    assert_eq!(ex.response.text(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_while_waiting_fails_alone() {
    let gate = Gate::new();
    let host = shared_host("1500", &gate);
    let mut send = h2c::connect(host.addr, true).await;
    // Waits at a gate that opens only at the end: past its deadline.
    let late = together(&host, &gate, 1).await;
    assert!(tokio::task::block_in_place(|| gate.wait_arrivals(1, WAIT)));
    // The same instance answers another request meanwhile.
    let ex = h2c::get(&mut send, host.addr, "/state").await;
    assert_eq!((ex.response.status, ex.response.text()), (200, "1".to_string()));
    let (status, _) = late.into_iter().next().unwrap().await.unwrap();
    assert_eq!(status, 504);
    // That instance takes no new request: the next one gets a new instance.
    let ex = h2c::get(&mut send, host.addr, "/state").await;
    assert_eq!((ex.response.status, ex.response.text()), (200, "1".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_computing_past_a_deadline_stops_its_instance_and_what_waited_for_it_goes_elsewhere() {
    let gate = Gate::new();
    let host = shared_host("1000", &gate);
    // A guest computing without awaiting holds up its whole instance: a
    // request sent to it meanwhile waits there, not started...
    let spin = {
        let mut send = h2c::connect(host.addr, true).await;
        let addr = host.addr;
        tokio::spawn(async move { h2c::get(&mut send, addr, "/spin").await.response.status })
    };
    host.expect_log_async("test-guests-p3: spinning").await;
    let mut send = h2c::connect(host.addr, true).await;
    let state = h2c::get(&mut send, host.addr, "/state").await;
    // ...until the deadline stops the instance; then it is started on
    // another, a new one (its counter starts at 1).
    assert_eq!((state.response.status, state.response.text()), (200, "1".to_string()));
    assert_eq!(spin.await.unwrap(), 504);
    host.expect_log("stopped (a request in it ran past its deadline) with 1 request(s) in it");

    // A request waiting in the instance when a guest computes on in it
    // fails with it.
    let waiting = together(&host, &gate, 1).await;
    assert!(tokio::task::block_in_place(|| gate.wait_arrivals(1, WAIT)));
    let spin = h2c::get(&mut send, host.addr, "/spin").await;
    let (status, text) = waiting.into_iter().next().unwrap().await.unwrap();
    // The waiting one is past its deadline first (it times out on its own
    // if the loop gets to run between the spinner's epoch yields, or with
    // the instance); the spinner is stopped, by its own deadline or with
    // the instance at the waiting one's.
    assert_eq!(status, 504, "{text}");
    assert!(matches!(spin.response.status, 500 | 504), "{}", spin.response.text());
    host.expect_log("shared instance 1: stopped (a request in it ran past its deadline)");
    let ex = h2c::get(&mut send, host.addr, "/hello").await;
    assert_eq!(ex.response.status, 200);
}

#[test]
fn a_component_that_cannot_serve_requests_at_once_is_refused_at_start() {
    for world in ["test_guests", "test_guests_http"] {
        let out = run_bounded(
            std::process::Command::new(support::push_host_bin()).args([
                "--module",
                guest(world).to_str().unwrap(),
                "--instance-concurrency",
                "2",
                "--check",
            ]),
            WAIT,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{world}: {stderr}");
        assert!(
            stderr.contains("--instance-concurrency (instance_concurrency) above 1 needs a wasi:http@0.3 component"),
            "{world}: {stderr}"
        );
    }
}
