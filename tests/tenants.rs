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
/// every one of tenant A's is still running or queued. A's guests compute
/// until the test opens its gate, so "still running" is certain, not a race
/// with a timer. Broken (a spinning guest that never yields its worker):
/// B's requests wait for A's and the bounded requests fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_tenant_does_not_starve_another() {
    let gate = support::gate::Gate::new();
    let toml = format!(
        r#"
[[tenant]]
name = "a"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
allowed_outbound_hosts = ["{}"]
[tenant.limits]
max_concurrent = 2
queue_timeout_ms = 600000
timeout_ms = 600000

[[tenant]]
name = "b"
module = "test_guests.wasm"
routes = ["localhost"]
"#,
        gate.origin()
    );
    let host = start(&hosting("fair", &toml));
    let send = h2c::connect(host.addr, true).await;
    let path = format!("/spin-gate?url={}", gate.url());
    let mut flood = Vec::new();
    for _ in 0..8 {
        let (mut send, addr, path) = (send.clone(), host.addr, path.clone());
        flood.push(tokio::spawn(async move {
            h2c::get(&mut send, addr, &path).await.response.status
        }));
    }
    tokio::task::block_in_place(|| host.expect_log_lines("spin-gate: started", 2));
    let url = format!("http://localhost:{}/hello", host.addr.port());
    for _ in 0..5 {
        let url = url.clone();
        let body = tokio::task::spawn_blocking(move || curl(&["-s", "--http2-prior-knowledge", &url]))
            .await
            .unwrap();
        assert_eq!(body, "hello");
    }
    assert!(flood.iter().all(|t| !t.is_finished()), "a spinning request of A ended");
    gate.open();
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
        // The request's own line follows its guest's line in the log (the
        // log is written by a thread of its own, after curl has its reply).
        host.expect_log_lines("GET /log?lines=1: handled in", attempts);
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

/// The guest log limit is the tenant's, shared by all its instances: two
/// instances held at the test's gate, then let go together, write 300
/// lines each; 600 lines are over the burst of 400, so some are dropped,
/// though neither instance alone wrote more than 300. Broken (a limit per
/// instance): nothing is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_log_limit_is_shared_by_a_tenants_instances() {
    let gate = support::gate::Gate::new();
    let host = Host::start(&guest("test_guests"), &["--allow-outbound-host", &gate.origin()]);
    let send = h2c::connect(host.addr, true).await;
    let path = format!("/log?lines=300&gate={}", gate.url());
    let mut both = Vec::new();
    for _ in 0..2 {
        let (mut send, addr, path) = (send.clone(), host.addr, path.clone());
        both.push(tokio::spawn(async move {
            h2c::get(&mut send, addr, &path).await.response.status
        }));
    }
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(2, Duration::from_secs(30))
    ));
    gate.open();
    for request in both {
        assert_eq!(request.await.unwrap(), 200);
    }
    // One more line after the flood reports the drop count.
    let mut attempts = 0;
    while !host.log().contains("guest log line(s) dropped") {
        assert!(attempts < 1000, "nothing dropped:\n{}", host.log());
        h2c::get(&mut send.clone(), host.addr, "/log?lines=1").await;
        attempts += 1;
    }
    let log = host.log();
    let kept = log
        .lines()
        .filter(|l| l.contains("/log?lines=300") && l.contains("stdout: chatty line"))
        .count();
    assert!(kept < 600, "{kept} of 600 lines kept");
}

/// Writes `toml` to `file` in one step (a rename), so the watcher sees one
/// change.
fn replace(file: &Path, toml: &str) {
    let next = file.with_extension("next");
    std::fs::write(&next, toml).unwrap();
    std::fs::rename(&next, file).unwrap();
}

/// What a reload may change, each seen through requests: a tenant removed
/// (its host now 404s), another's routes, limits and env changed; a request
/// in flight (held at the test's gate, on a route the new version no longer
/// has) finishes on the old version; a reload that needs a bigger instance
/// pool is refused and the current version keeps serving; both outcomes are
/// counted in `push_host_reloads_total`. Each change waits for the log line
/// of that reload (it names the new tenants). Broken (a request in flight
/// cut, or the new version's routes not installed): a status differs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_changes_tenants_routes_limits_and_env_and_keeps_requests_in_flight() {
    let gate = support::gate::Gate::new();
    let v0 = format!(
        r#"
[[tenant]]
name = "v0"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
allowed_outbound_hosts = ["{gate}"]
[tenant.env]
GREETING = "one"

[[tenant]]
name = "gone"
module = "test_guests.wasm"
routes = ["localhost"]
"#,
        gate = gate.origin()
    );
    let file = hosting("reload-what", &v0);
    let host = Host::start_with(
        &["--config", file.to_str().unwrap(), "--admin-listen", "127.0.0.1:0"],
        "info",
    );
    let port = host.addr.port();
    let get =
        |authority: &str, path: &str| curl(&["-s", "-w", " %{http_code}", &format!("http://{authority}:{port}{path}")]);
    assert_eq!(get("localhost", "/hello"), "hello 200");
    assert!(get("127.0.0.1", "/env").contains("env=GREETING=one"));
    assert_eq!(get("127.0.0.1", "/spin-ms?ms=600"), "spun 600 ms 200");
    // A request in flight on v0's /gate.
    let mut send = h2c::connect(host.addr, true).await;
    let (addr, path) = (host.addr, format!("/gate?url={}", gate.url()));
    let held = tokio::spawn(async move { h2c::get(&mut send, addr, &path).await });
    assert!(tokio::task::block_in_place(
        || gate.wait_arrivals(1, Duration::from_secs(30))
    ));
    // v1: "gone" removed; new routes (no /gate, no /hello), limits and env.
    let v1 = r#"
[[tenant]]
name = "v1"
module = "test_guests.wasm"
routes = ["127.0.0.1/env", "127.0.0.1/spin-ms"]
[tenant.limits]
timeout_ms = 300
[tenant.env]
GREETING = "two"
"#;
    replace(&file, v1);
    tokio::task::block_in_place(|| host.expect_log("hosting.toml: tenants v1"));
    assert_eq!(get("localhost", "/hello"), "no tenant serves localhost/hello\n 404");
    assert_eq!(get("127.0.0.1", "/hello"), "no tenant serves 127.0.0.1/hello\n 404");
    assert!(get("127.0.0.1", "/env").contains("env=GREETING=two"));
    assert!(get("127.0.0.1", "/spin-ms?ms=600").ends_with(" 504"));
    // The request in flight finishes, on v0.
    gate.open();
    let ex = held.await.unwrap();
    assert_eq!((ex.response.status, ex.response.text().as_str()), (200, "gate opened"));
    // A reload that needs a bigger pool is refused; v1 keeps serving.
    replace(
        &file,
        &v1.replace("timeout_ms = 300", "timeout_ms = 300\nmemory_mb = 1024"),
    );
    let refused = tokio::task::block_in_place(|| host.expect_log("reload failed, the previous version keeps serving"));
    assert!(refused.contains("restart to grow it"), "{refused}");
    assert!(get("127.0.0.1", "/env").contains("env=GREETING=two"));
    let admin = host.expect_log("Admin endpoints on http://");
    let admin = admin.split("http://").nth(1).unwrap().trim_end_matches('/').to_string();
    let metrics = curl(&["-s", &format!("http://{admin}/metrics")]);
    for result in ["installed", "failed"] {
        let series = format!(r#"push_host_reloads_total{{result="{result}"}} "#);
        assert!(metrics.contains(&series), "{series} in:\n{metrics}");
    }
}

/// A reload drops the previous version's component, and the pool pages its
/// instances kept warm go back to the kernel with it: wasmtime forgets the
/// pool slots a dropped component used, so pages still resident then would
/// stay so, uncounted, for the process's life (a reload every 3 s under
/// load held 400 MiB). Eight instances of 8 MiB held at once leave 8 warm
/// slots of 4 MiB. Broken (no release when a version is unloaded), RSS
/// stays where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_gives_the_previous_version_s_warm_pages_back() {
    let gate = support::gate::Gate::new();
    let version = |generation: u32| {
        format!(
            r#"
[defaults]
max_concurrent = 8

[[tenant]]
name = "guests"
module = "test_guests.wasm"
routes = ["127.0.0.1"]
allowed_outbound_hosts = ["{gate}"]
# generation {generation}
"#,
            gate = gate.origin()
        )
    };
    let file = hosting("reload-pages", &version(0));
    let host = start(&file);
    support::hold_at_gate(&host, &gate, 8, 8).await;
    let busy = support::rss_kib(host.pid());
    replace(&file, &version(1));
    let unloaded = tokio::task::block_in_place(|| host.expect_log("guests: a version unloaded"));
    let after = support::rss_kib(host.pid());
    let log = host.log();
    // The idle release (5 s without an instance start) would give them back
    // too; it must not be what this test sees.
    assert!(
        !log.contains("idle for 5 s"),
        "inconclusive: the idle release ran before the reload:\n{log}"
    );
    assert!(
        busy.saturating_sub(after) >= 24 * 1024,
        "RSS {busy} KiB before the reload, {after} KiB after: {unloaded}"
    );
}
