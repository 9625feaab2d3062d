//! Observability: `--admin-listen` serves `/metrics` (exact counter values
//! after the seed scenario with a rejected push, and after a trap),
//! `/healthz` and `/readyz` (503 while draining); every request's log line
//! carries its report as fields, also as JSON with `--log-format json`.

mod support;

use std::process::Command;
use std::time::Duration;

use support::gate::Gate;
use support::h2c::{self, Ask};
use support::{Host, guest, run_bounded};

/// `GET http://ADDR/PATH` on the admin listener: (status, body).
fn admin(addr: &str, path: &str) -> (String, String) {
    let out = run_bounded(
        Command::new("curl").args(["-s", "-w", "\n%{http_code}", &format!("http://{addr}{path}")]),
        Duration::from_secs(30),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_string(), body.trim_end().to_string())
}

fn admin_addr(host: &Host) -> String {
    let line = host.expect_log("Admin endpoints on http://");
    line.split("http://").nth(1).unwrap().trim_end_matches('/').to_string()
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_seed_a_rejected_push_and_a_trap_exactly() {
    let host = Host::start(&guest("test_guests"), &["--admin-listen", "127.0.0.1:0"]);
    let addr = admin_addr(&host);
    assert_eq!(admin(&addr, "/healthz"), ("200".into(), "ok".into()));
    assert_eq!(admin(&addr, "/readyz"), ("200".into(), "ready".into()));
    let mut send = h2c::connect(host.addr, true).await;
    // The seed, whose guest waits until the client has refused /resource2.
    let ask = Ask {
        reject: &["/resource2"],
        ..Default::default()
    };
    let ex = h2c::exchange(&mut send, host.addr, "/seed-slow?refused=/resource2", ask).await;
    assert_eq!(ex.response.status, 200);
    let trap = h2c::get(&mut send, host.addr, "/trap").await;
    assert_eq!(trap.response.status, 500);
    host.expect_log("GET /trap: 500");
    let (status, metrics) = tokio::task::spawn_blocking(move || admin(&addr, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status, "200");
    let t = r#"tenant="default""#;
    let expect = [
        (
            format!(r#"push_host_requests_total{{{t},status="200",protocol="h2"}}"#),
            1.0,
        ),
        (
            format!(r#"push_host_requests_total{{{t},status="500",protocol="h2"}}"#),
            1.0,
        ),
        (format!(r#"push_host_pushes_total{{{t},outcome="promised"}}"#), 3.0),
        (format!(r#"push_host_pushes_total{{{t},outcome="sent"}}"#), 2.0),
        (format!(r#"push_host_pushes_total{{{t},outcome="refused"}}"#), 1.0),
        (format!(r#"push_host_guest_failures_total{{{t},kind="trap"}}"#), 1.0),
        (format!(r#"push_host_instantiate_seconds_count{{{t}}}"#), 2.0),
        (format!(r#"push_host_handle_seconds_count{{{t}}}"#), 2.0),
        (format!(r#"push_host_instances_in_use{{{t}}}"#), 0.0),
        ("push_host_open_connections".to_string(), 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&metrics, &series), Some(value), "{series} in:\n{metrics}");
    }
    assert!(sample(&metrics, &format!(r#"push_host_pushes_total{{{t},outcome="hinted"}}"#)).is_none());
}

/// `/readyz` says 503 while the host drains: a request is certainly in
/// flight (its guest waits at the test's gate) when TERM arrives, and the
/// gate opens only after `/readyz` answered. Broken (readyz not draining):
/// it says 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_while_draining() {
    let gate = Gate::new();
    let mut host = Host::start(
        &guest("test_guests"),
        &["--admin-listen", "127.0.0.1:0", "--allow-outbound-host", &gate.origin()],
    );
    let addr = admin_addr(&host);
    let mut send = h2c::connect(host.addr, true).await;
    let target = host.addr;
    let path = format!("/gate?url={}", gate.url());
    let slow = tokio::spawn(async move { h2c::get(&mut send, target, &path).await.response.status });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    host.signal("TERM");
    host.expect_log_async("no longer accepting").await;
    let ready = tokio::task::spawn_blocking(move || admin(&addr, "/readyz"))
        .await
        .unwrap();
    assert_eq!(ready, ("503".into(), "draining".into()));
    assert!(!slow.is_finished());
    gate.open();
    assert_eq!(slow.await.unwrap(), 200);
    let status = tokio::task::block_in_place(|| host.wait_exit(Duration::from_secs(10))).expect("exited");
    assert!(status.success());
}

/// The admin port answers while the component loads: `/healthz` 200,
/// `/readyz` 503 `loading`, then 200 once it serves. The module is a named
/// pipe the test writes the component into only after it has asked, so
/// loading is certainly under way (no timing). Broken (readyz 200 before
/// loading finished, or the admin port started only after loading): 200, or
/// no admin line before the module is written.
#[test]
fn readyz_is_503_until_the_components_are_loaded() {
    let dir = std::env::temp_dir().join(format!("push-host-readyz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("slow.wasm");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let mut host = Host::spawn(
        &["--module", fifo.to_str().unwrap(), "--admin-listen", "127.0.0.1:0"],
        "info",
    );
    let addr = admin_addr(&host);
    assert_eq!(admin(&addr, "/healthz"), ("200".into(), "ok".into()));
    assert_eq!(admin(&addr, "/readyz"), ("503".into(), "loading".into()));
    std::fs::write(&fifo, std::fs::read(guest("test_guests")).unwrap()).unwrap();
    host.wait_serving();
    assert_eq!(admin(&addr, "/readyz"), ("200".into(), "ready".into()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `push_host_guest_failures_total` counts each kind of failure under its
/// own label: a deadline (`timeout`), the memory limit (`memory`), no
/// instance free (`busy`: the only slot is held by a guest at the test's
/// gate, and the queue timeout is 0), and nothing else. Broken (a kind
/// counted under another label, or not at all): a sample differs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_failures_are_counted_by_kind() {
    let gate = Gate::new();
    let host = Host::start(
        &guest("test_guests"),
        &[
            "--admin-listen",
            "127.0.0.1:0",
            "--allow-outbound-host",
            &gate.origin(),
            "--timeout-ms",
            "30000",
            "--memory-mb",
            "16",
            "--max-concurrent",
            "1",
            "--queue-timeout-ms",
            "0",
        ],
    );
    let addr = admin_addr(&host);
    let mut send = h2c::connect(host.addr, true).await;
    let oom = h2c::get(&mut send, host.addr, "/oom").await;
    assert_eq!(oom.response.status, 500);
    // The only instance slot, held at the gate: the next request is busy.
    let (mut held, target) = (send.clone(), host.addr);
    let path = format!("/gate?url={}", gate.url());
    let holder = tokio::spawn(async move { h2c::get(&mut held, target, &path).await.response.status });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    let busy = h2c::get(&mut send, host.addr, "/hello").await;
    assert_eq!(busy.response.status, 503);
    gate.open();
    assert_eq!(holder.await.unwrap(), 200);
    let (status, metrics) = tokio::task::spawn_blocking(move || admin(&addr, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status, "200");
    let t = r#"tenant="default""#;
    for (kind, count) in [
        ("memory", Some(1.0)),
        ("busy", Some(1.0)),
        ("trap", None),
        ("timeout", None),
    ] {
        let series = format!(r#"push_host_guest_failures_total{{{t},kind="{kind}"}}"#);
        assert_eq!(sample(&metrics, &series), count, "{series} in:\n{metrics}");
    }
    // A deadline: `timeout` (its own host, a 300 ms deadline).
    let host = Host::start(
        &guest("test_guests"),
        &["--admin-listen", "127.0.0.1:0", "--timeout-ms", "300"],
    );
    let addr = admin_addr(&host);
    let mut send = h2c::connect(host.addr, true).await;
    assert_eq!(h2c::get(&mut send, host.addr, "/spin").await.response.status, 504);
    let (_, metrics) = tokio::task::spawn_blocking(move || admin(&addr, "/metrics"))
        .await
        .unwrap();
    let series = format!(r#"push_host_guest_failures_total{{{t},kind="timeout"}}"#);
    assert_eq!(sample(&metrics, &series), Some(1.0), "{metrics}");
}

#[tokio::test]
async fn every_request_logs_its_report_as_fields() {
    let host = Host::start(&guest("http2_service"), &[]);
    let mut send = h2c::connect(host.addr, true).await;
    h2c::get(&mut send, host.addr, "/http2Service").await;
    let line = host.expect_log_async("GET /http2Service: handled in").await;
    for field in [
        "tenant=default",
        "status=200",
        "protocol=\"h2\"",
        "promised=3",
        "pushed=3",
        "refused=0",
        "hinted=0",
        "instantiate_us=",
        "handle_us=",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
}

/// Every line of `--log-format json` is one JSON object (start-up, guest
/// output, the request's line), and the request's line keeps its report as
/// fields. Broken (a line in text, or the message reworded): the parse or
/// the message check fails.
#[tokio::test]
async fn log_format_json_writes_one_object_per_line() {
    let host = Host::start(&guest("http2_service"), &["--log-format", "json"]);
    let mut send = h2c::connect(host.addr, true).await;
    h2c::get(&mut send, host.addr, "/http2Service").await;
    let line = host.expect_log_async("handled in").await;
    let log = host.log();
    let mut lines = 0;
    for l in log.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.is_object() && v["fields"]["message"].is_string(), "{l}");
        lines += 1;
    }
    assert!(lines >= 3, "{log}");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["fields"]["status"], 200, "{line}");
    assert_eq!(v["fields"]["promised"], 3, "{line}");
    assert_eq!(v["fields"]["tenant"], "default", "{line}");
    let message = v["fields"]["message"].as_str().unwrap();
    let ms = message
        .strip_suffix(" ms")
        .and_then(|m| m.rsplit_once("GET /http2Service: handled in "))
        .map(|(_, ms)| ms);
    assert!(
        ms.is_some_and(|ms| ms.parse::<u64>().is_ok()),
        "not `…GET /http2Service: handled in N ms`: {message}"
    );
}

/// `GET http://ADDR/metrics` with `authorization: VALUE` (none if empty):
/// (status, body).
fn metrics_with(addr: &str, authorization: &str) -> (String, String) {
    let mut curl = Command::new("curl");
    curl.args(["-s", "-w", "\n%{http_code}"]);
    if !authorization.is_empty() {
        curl.args(["-H", &format!("authorization: {authorization}")]);
    }
    let out = run_bounded(curl.arg(format!("http://{addr}/metrics")), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_string(), body.trim_end().to_string())
}

/// With `--admin-token-file`, `/metrics` answers 401 (and logs why) to a
/// request without the token or with a wrong one, 200 with it; the probes
/// stay open; the token never reaches the log. Broken (the check skipped),
/// the first request gets 200.
#[test]
fn with_an_admin_token_metrics_needs_it_and_the_probes_do_not() {
    let token = format!("t0ken-{}", std::process::id());
    let file = std::env::temp_dir().join(format!("push-host-admin-token-{}", std::process::id()));
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let host = Host::start(
        &guest("test_guests"),
        &[
            "--admin-listen",
            "127.0.0.1:0",
            "--admin-token-file",
            file.to_str().unwrap(),
        ],
    );
    let addr = admin_addr(&host);
    let (status, body) = metrics_with(&addr, "");
    assert_eq!(status, "401", "{body}");
    assert!(body.contains("authorization: Bearer"), "{body}");
    host.expect_log("admin: /metrics refused with 401: no authorization header");
    assert_eq!(metrics_with(&addr, &format!("Bearer {token}x")).0, "401");
    assert_eq!(metrics_with(&addr, &token).0, "401");
    host.expect_log("admin: /metrics refused with 401: a wrong bearer token");
    let (status, body) = metrics_with(&addr, &format!("Bearer {token}"));
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("push_host_open_connections"), "{body}");
    assert_eq!(admin(&addr, "/healthz"), ("200".into(), "ok".into()));
    assert_eq!(admin(&addr, "/readyz"), ("200".into(), "ready".into()));
    assert!(!host.log().contains(&token), "the token is in the log:\n{}", host.log());
    std::fs::remove_file(&file).unwrap();
}

/// An admin address off loopback with no token stops start-up with one line
/// that says how to set one; a token or `--admin-insecure` lets it start.
/// Checked with `--check`, which decides the same way but binds nothing.
#[test]
fn an_admin_port_off_loopback_needs_a_token_or_admin_insecure() {
    let module = guest("test_guests");
    let check = |extra: &[&str]| {
        run_bounded(
            Command::new(support::push_host_bin())
                .args(["--module", module.to_str().unwrap(), "--admin-listen", "0.0.0.0:9"])
                .args(extra)
                .arg("--check"),
            Duration::from_secs(60),
        )
    };
    let refused = check(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("--admin-listen 0.0.0.0:9 is not a loopback address")
            && stderr.contains("--admin-token-file")
            && stderr.contains("--admin-insecure"),
        "{stderr}"
    );
    let insecure = check(&["--admin-insecure"]);
    assert!(
        insecure.status.success(),
        "{}",
        String::from_utf8_lossy(&insecure.stderr)
    );
    let file = std::env::temp_dir().join(format!("push-host-admin-token-check-{}", std::process::id()));
    std::fs::write(&file, "secret\n").unwrap();
    let with_token = check(&["--admin-token-file", file.to_str().unwrap()]);
    assert!(
        with_token.status.success(),
        "{}",
        String::from_utf8_lossy(&with_token.stderr)
    );
    std::fs::write(&file, "").unwrap();
    let empty = check(&["--admin-token-file", file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("is empty"),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );
    std::fs::remove_file(&file).unwrap();
}

/// `admin_token_file` in the hosting file (relative to it) counts like the
/// flag: an admin address off loopback then starts; a token file that is
/// not there stops start-up naming it. Checked with `--check` (binds
/// nothing). Broken (the key ignored), the first check is refused.
#[test]
fn the_hosting_file_s_admin_token_file_counts_like_the_flag() {
    let dir = std::env::temp_dir().join(format!("push-host-admin-hosting-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(guest("test_guests"), dir.join("test_guests.wasm")).unwrap();
    std::fs::write(dir.join("admin.token"), "from-the-hosting-file\n").unwrap();
    let hosting = |token_file: &str| {
        let file = dir.join("hosting.toml");
        std::fs::write(
            &file,
            format!(
                "admin_token_file = \"{token_file}\"\n\n[[tenant]]\nname = \"a\"\nmodule = \"test_guests.wasm\"\nroutes = [\"localhost\"]\n"
            ),
        )
        .unwrap();
        run_bounded(
            Command::new(support::push_host_bin()).args([
                "--config",
                file.to_str().unwrap(),
                "--admin-listen",
                "0.0.0.0:9",
                "--check",
            ]),
            Duration::from_secs(60),
        )
    };
    let ok = hosting("admin.token");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let missing = hosting("nope.token");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot read the admin token file") && stderr.contains("nope.token"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
