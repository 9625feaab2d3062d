//! Many tenants on one host (`--config hosting.toml`): routing by authority
//! and path prefix, 404 for the rest, per-tenant limits and environment,
//! promises only within a tenant's own routes, `--check`, and every bad
//! hosting file stopping start-up with one line naming the file, key and line.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{Host, guest, h2c, run_bounded};

/// A directory with both guests copied in and `hosting.toml` written.
fn hosting(name: &str, toml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("push-host-tenants-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for g in ["http2_service", "test_guests"] {
        std::fs::copy(guest(g), dir.join(format!("{g}.wasm"))).unwrap();
    }
    let file = dir.join("hosting.toml");
    std::fs::write(&file, toml).unwrap();
    file
}

const TWO_TENANTS: &str = r#"
[defaults]
max_pushes = 8

[[tenant]]
name = "seed"
module = "http2_service.wasm"
routes = ["127.0.0.1"]

[[tenant]]
name = "guests"
module = "test_guests.wasm"
routes = ["localhost", "127.0.0.1/env", "127.0.0.1/promise-n"]
[tenant.limits]
timeout_ms = 300
[tenant.env]
GREETING = "hello"
"#;

fn start(file: &Path) -> Host {
    Host::start_with(&["--config", file.to_str().unwrap()], "info")
}

fn curl(args: &[&str]) -> String {
    let out = run_bounded(Command::new("curl").args(args), Duration::from_secs(30));
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn requests_reach_the_tenant_their_authority_and_path_route_to() {
    let host = start(&hosting("route", TWO_TENANTS));
    let port = host.addr.port();
    // 127.0.0.1: the seed, with its pushes.
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert_eq!(ex.response.text(), r#"{"response":{"name":"main resource"}}"#);
    assert_eq!(ex.pushes.len(), 3);
    // localhost (any port, any case): the test guests.
    let hello = curl(&[
        "-s",
        "--http2-prior-knowledge",
        &format!("http://LocalHost:{port}/hello"),
    ]);
    assert_eq!(hello, "hello");
    // A longer prefix on 127.0.0.1 wins over the seed's whole host.
    let env = curl(&["-s", &format!("http://127.0.0.1:{port}/env")]);
    assert!(env.contains("vars=1\n"), "{env}");
    // No route: 404 with a one-line body, in the log too.
    let out = curl(&[
        "-s",
        "-H",
        "host: elsewhere.test",
        "-w",
        " %{http_code}",
        &format!("http://127.0.0.1:{port}/x"),
    ]);
    assert_eq!(out, "no tenant serves elsewhere.test/x\n 404");
    host.expect_log("404: no tenant serves elsewhere.test/x");
}

/// Two tenants on the same module: "guests" (localhost) has `GREETING`
/// and a 300 ms deadline, "plain" (127.0.0.1) neither. Each sees only its
/// own: "plain" has no variable and finishes a 600 ms computation that
/// "guests" is stopped in. Broken (one environment or deadline for the
/// process): "plain" sees `GREETING`, or gets a 504.
#[test]
fn each_tenant_sees_only_its_own_environment_and_limits() {
    let toml = r#"
[[tenant]]
name = "guests"
module = "test_guests.wasm"
routes = ["localhost"]
[tenant.limits]
timeout_ms = 300
[tenant.env]
GREETING = "hello"

[[tenant]]
name = "plain"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
"#;
    let host = start(&hosting("env", toml));
    let port = host.addr.port();
    let env = curl(&["-s", &format!("http://localhost:{port}/env")]);
    assert!(env.lines().any(|l| l == "env=GREETING=hello"), "{env}");
    let plain = curl(&["-s", &format!("http://127.0.0.1:{port}/env")]);
    assert!(plain.lines().any(|l| l == "vars=0"), "{plain}");
    assert!(!plain.contains("GREETING"), "{plain}");
    let spin = |authority: &str| {
        curl(&[
            "-s",
            "-w",
            " %{http_code}",
            &format!("http://{authority}:{port}/spin-ms?ms=600"),
        ])
    };
    assert!(spin("localhost").ends_with(" 504"), "guests: 300 ms deadline");
    host.expect_log("GET /spin-ms?ms=600: 504: handler timed out after 300 ms");
    assert_eq!(spin("127.0.0.1"), "spun 600 ms 200", "plain: the default deadline");
}

#[tokio::test]
async fn a_tenant_cannot_promise_a_path_another_tenant_serves() {
    let host = start(&hosting("foreign", TWO_TENANTS));
    let mut send = h2c::connect(host.addr, true).await;
    // The guests tenant serves 127.0.0.1/promise-n, but /n/0 on 127.0.0.1
    // routes to the seed tenant.
    let ex = h2c::get(&mut send, host.addr, "/promise-n?n=1").await;
    assert_eq!(ex.response.text(), "promised 0");
    assert!(ex.promises.is_empty());
    host.expect_log("promise-n: promise of /n/0 failed: invalid: /n/0 routes to another tenant");
}

#[test]
fn check_validates_and_exits_without_serving() {
    let file = hosting("check", TWO_TENANTS);
    let out = run_bounded(
        Command::new(support::push_host_bin()).args(["--config", file.to_str().unwrap(), "--check"]),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), format!("{}: OK: tenants seed, guests", file.display()));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Serving"));
}

/// Runs push-host on a bad hosting file; returns its one line of stderr.
fn fails(name: &str, toml: &str, extra: &[&str]) -> String {
    let file = hosting(name, toml);
    let out = run_bounded(
        Command::new(support::push_host_bin())
            .args(["--config", file.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(extra),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "accepted: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&file.display().to_string()) || !extra.is_empty(),
        "{stderr}"
    );
    stderr
}

#[test]
fn bad_hosting_files_stop_start_up_naming_file_key_and_line() {
    let tenant = "[[tenant]]\nname = \"a\"\nmodule = \"test_guests.wasm\"\nroutes = [\"localhost\"]\n";
    let err = fails("syntax", "listen = \n", &[]);
    assert!(err.contains("hosting.toml:1: "), "{err}");
    let err = fails("unknown", &format!("{tenant}colour = \"blue\"\n"), &[]);
    assert!(err.contains("hosting.toml:5: unknown field `colour`"), "{err}");
    let err = fails(
        "missing",
        "[[tenant]]\nname = \"a\"\nmodule = \"nope.wasm\"\nroutes = [\"localhost\"]\n",
        &[],
    );
    assert!(err.contains("hosting.toml:3: tenant \"a\": module"), "{err}");
    assert!(err.contains("nope.wasm does not exist"), "{err}");
    let err = fails(
        "dup-name",
        &format!("{tenant}{}", tenant.replace("localhost", "b.test")),
        &[],
    );
    assert!(err.contains("hosting.toml:6: tenant.name \"a\" is used twice"), "{err}");
    let err = fails(
        "dup-route",
        &format!("{tenant}{}", tenant.replace("\"a\"", "\"b\"")),
        &[],
    );
    assert!(
        err.contains("hosting.toml:8: tenant \"b\": route \"localhost\" is already tenant \"a\"'s"),
        "{err}"
    );
    let err = fails(
        "bad-limit",
        &format!("{tenant}[tenant.limits]\nmax_concurrent = 0\n"),
        &[],
    );
    assert!(
        err.contains("hosting.toml:6: tenant \"a\": limits.max_concurrent must be at least 1"),
        "{err}"
    );
    let err = fails(
        "tenant-only",
        &format!("{tenant}[tenant.limits]\nmax_streams = 5\n"),
        &[],
    );
    assert!(err.contains("hosting.toml:6: unknown field `max_streams`"), "{err}");
    let err = fails("bad-route", &tenant.replace("localhost", "localhost:7090"), &[]);
    assert!(
        err.contains("hosting.toml:4: tenant \"a\": route \"localhost:7090\": ports are ignored"),
        "{err}"
    );
    let err = fails("no-tenant", "[defaults]\ntimeout_ms = 5\n", &[]);
    assert!(err.contains("no [[tenant]]"), "{err}");
    let err = fails("not-wasm", &tenant.replace("test_guests.wasm", "hosting.toml"), &[]);
    assert!(
        err.contains("tenant \"a\": ") && err.contains("is not a WebAssembly file"),
        "{err}"
    );
    let err = fails("flag", tenant, &["--timeout-ms", "5"]);
    assert!(err.contains("--timeout-ms cannot be combined with --config"), "{err}");
}

#[tokio::test]
async fn a_tenant_share_of_the_memory_budget_bounds_that_tenant_only() {
    let toml = r#"
[defaults]
memory_budget_mb = 512

[[tenant]]
name = "small"
module = "test_guests.wasm"
routes = ["localhost"]
[tenant.limits]
memory_budget_mb = 24

[[tenant]]
name = "big"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
"#;
    let host = start(&hosting("share", toml));
    let port = host.addr.port();
    let small = curl(&[
        "-s",
        "-w",
        " %{http_code}",
        &format!("http://localhost:{port}/hold?mb=32"),
    ]);
    assert!(small.ends_with(" 500"), "{small}");
    host.expect_log("did not fit in its tenant's memory budget of 24 MiB");
    let big = curl(&[
        "-s",
        "-w",
        " %{http_code}",
        &format!("http://127.0.0.1:{port}/hold?mb=32"),
    ]);
    assert_eq!(big, "held 32 MiB 200");
}

/// A tenant at its concurrency limit, its queue full of guests that spin,
/// does not hold up another tenant: tenant B's requests all complete while
/// every one of tenant A's is still running or queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_tenant_does_not_starve_another() {
    let toml = r#"
[[tenant]]
name = "a"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
[tenant.limits]
max_concurrent = 2
queue_timeout_ms = 5000

[[tenant]]
name = "b"
module = "test_guests.wasm"
routes = ["localhost"]
"#;
    let host = start(&hosting("fair", toml));
    let a_answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let send = h2c::connect(host.addr, true).await;
    let mut flood = Vec::new();
    for _ in 0..8 {
        let (mut send, addr, answered) = (send.clone(), host.addr, a_answered.clone());
        flood.push(tokio::spawn(async move {
            let ex = h2c::get(&mut send, addr, "/spin-ms?ms=1500").await;
            answered.store(true, std::sync::atomic::Ordering::SeqCst);
            ex.response.status
        }));
    }
    tokio::task::block_in_place(|| host.expect_log_lines("spin-ms: started", 2));
    let url = format!("http://localhost:{}/hello", host.addr.port());
    let mut took = Vec::new();
    for _ in 0..5 {
        let url = url.clone();
        let t = std::time::Instant::now();
        let body = tokio::task::spawn_blocking(move || curl(&["-s", "--http2-prior-knowledge", &url]))
            .await
            .unwrap();
        took.push(t.elapsed());
        assert_eq!(body, "hello");
    }
    assert!(
        !a_answered.load(std::sync::atomic::Ordering::SeqCst),
        "tenant B waited until tenant A answered; B's requests took {took:?}"
    );
    for t in flood {
        assert_eq!(t.await.unwrap(), 200);
    }
}

/// Reloads under continuous load: a module swapped on disk, then a broken
/// module (not installed, the old version keeps serving), then a config
/// that adds a tenant (SIGHUP). Not one request fails meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_fail_no_request() {
    let one = "[[tenant]]\nname = \"a\"\nmodule = \"a.wasm\"\nroutes = [\"127.0.0.1\"]\n";
    let file = hosting("reload", one);
    let dir = file.parent().unwrap().to_path_buf();
    std::fs::copy(guest("test_guests"), dir.join("a.wasm")).unwrap();
    let host = start(&file);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = host.addr;
    let load = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut send = h2c::connect(addr, true).await;
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                match h2c::try_exchange(&mut send, addr, "/hello", Default::default()).await {
                    Ok(ex) if ex.response.status == 200 => ok += 1,
                    Ok(ex) => failed.push(format!("{} {}", ex.response.status, ex.response.text())),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed)
        })
    };
    let reloads = |n: usize| {
        let host = &host;
        move || host.expect_log_lines("reloaded ", n)
    };
    let body = |path: &str| {
        let url = format!("http://127.0.0.1:{}{path}", addr.port());
        curl(&["-s", &url])
    };
    assert_eq!(body("/hello"), "hello");
    // 1. Swap the module: the seed answers every path.
    std::fs::copy(guest("http2_service"), dir.join("a.wasm")).unwrap();
    tokio::task::block_in_place(reloads(1));
    assert_eq!(body("/hello"), r#"{"response":{"name":"main resource"}}"#);
    // 2. A broken module is not installed.
    std::fs::write(dir.join("a.wasm"), b"\0asm broken").unwrap();
    tokio::task::block_in_place(|| host.expect_log_lines("reload failed, the previous version keeps serving", 1));
    assert_eq!(body("/hello"), r#"{"response":{"name":"main resource"}}"#);
    std::fs::copy(guest("test_guests"), dir.join("a.wasm")).unwrap();
    tokio::task::block_in_place(reloads(2));
    // 3. A config that adds a tenant, installed on SIGHUP (the file watcher
    // may see it first; either way one more reload).
    let two = format!("{one}[[tenant]]\nname = \"b\"\nmodule = \"http2_service.wasm\"\nroutes = [\"localhost\"]\n");
    std::fs::write(&file, two).unwrap();
    host.signal("HUP");
    tokio::task::block_in_place(|| host.expect_log_lines("reloaded ", 3));
    tokio::task::block_in_place(|| host.expect_log("tenants a, b"));
    let b = curl(&["-s", &format!("http://localhost:{}/x", addr.port())]);
    assert_eq!(b, r#"{"response":{"name":"main resource"}}"#);
    assert_eq!(body("/hello"), "hello");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ok, failed) = load.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} failed of {}: {failed:?}",
        failed.len(),
        ok as usize + failed.len()
    );
    assert!(ok > 20, "only {ok} requests during the reloads");
}

/// A chatty guest cannot flood the log: its tenant's lines are rate-limited
/// (a burst of 400, then 200/s), the drop is counted and said, and another
/// tenant's guest lines still get through at once. Guest lines carry their
/// tenant. Broken (one limiter for the process): the other tenant's line,
/// written right after the flood, is dropped and never appears.
#[test]
fn a_chatty_tenant_is_rate_limited_alone() {
    let toml = r#"
[[tenant]]
name = "guests"
module = "test_guests.wasm"
routes = ["localhost"]

[[tenant]]
name = "quiet"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
"#;
    let host = start(&hosting("chatty", toml));
    let port = host.addr.port();
    assert_eq!(
        curl(&["-s", &format!("http://localhost:{port}/log?lines=3000")]),
        "logged"
    );
    // Another tenant's guest logs at once: its own line gets through.
    curl(&["-s", &format!("http://127.0.0.1:{port}/log")]);
    let quiet = host.expect_log("stdout: stdout line from guest");
    assert!(quiet.contains("tenant=quiet conn="), "{quiet}");
    let log = host.log();
    assert!(
        log.lines()
            .filter(|l| l.contains("stdout: chatty line"))
            .all(|l| l.contains("tenant=guests conn="))
    );
    // Once the rate allows again (a line every 5 ms), a line gets through
    // and says how many were dropped since the last one: they add up with
    // the lines kept. Each attempt is one more line written.
    let mut attempts = 0;
    let line = "GET /log?lines=1 stdout: chatty line 0";
    while !host.log().contains(line) {
        assert!(attempts < 1000, "no line got through after {attempts} attempts");
        curl(&["-s", &format!("http://localhost:{port}/log?lines=1")]);
        attempts += 1;
    }
    let log = host.log();
    let kept = log
        .lines()
        .filter(|l| l.contains("GET /log?lines=3000 stdout: chatty line"))
        .count();
    assert!((400..2000).contains(&kept), "{kept} of 3000 lines kept");
    let dropped: usize = log
        .lines()
        .filter_map(|l| l.split("tenant guests: ").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(
        kept + 1 + dropped,
        3000 + attempts,
        "{kept} kept, {dropped} dropped, {attempts} attempts"
    );
}
