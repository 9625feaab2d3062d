//! Replicas behind a real load balancer: HAProxy (TCP mode, so h2c and its
//! pushes pass through; health checks on each replica's `/readyz`) in front
//! of three push-host replicas that share one `--cache-dir` and start at
//! the same moment. While `push-bench` drives the seed through HAProxy, the
//! replicas restart one at a time as an orchestrator does (SIGTERM, wait
//! for the exit, start again on the same ports, wait for `/readyz`):
//! zero failed requests and zero missing pushes. Two clients make the load
//! together: push-bench and, beside it, the `push-client` library (a few
//! `Client`s walking the seed's promises). A request the draining replica
//! did not process (above its GOAWAY's last-stream-id, or submitted after
//! the GOAWAY) is sent again on a new connection by each and reported as
//! retried; the library also moves its later requests to a new connection
//! as soon as it reads the GOAWAY (a reconnect, not a retry). `bench/fleet.py` runs the same for longer.
//!
//! Declared by `client/Cargo.toml` (test `fleet`), so that it can use the
//! library; needs haproxy, push-host, push-bench and the guest
//! (scripts/test.sh).

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use push_client::{Client, Request};

use support::{Host, guest, push_host_bin, run_bounded, workspace_bin};

/// A loopback port free now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One replica: the seed on fixed ports (so HAProxy finds it again after
/// a restart), sharing `cache`.
fn replica(port: u16, admin: u16, cache: &Path) -> Host {
    let mut command = Command::new(push_host_bin());
    command.args([
        "--module",
        guest("http2_service").to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--admin-listen",
        &format!("127.0.0.1:{admin}"),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--push-diary",
        "0",
    ]);
    Host::spawn_command(command, "info")
}

/// Whether `curl ARGS URL` gets a 200.
fn answers_200(url: &str, args: &[&str]) -> bool {
    let out = run_bounded(
        Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(args)
            .arg(url),
        Duration::from_secs(10),
    );
    String::from_utf8_lossy(&out.stdout) == "200"
}

fn ready(admin: u16) -> bool {
    answers_200(&format!("http://127.0.0.1:{admin}/readyz"), &[])
}

/// Polls `/readyz` (a probe, as HAProxy and Kubernetes do) until 200.
fn wait_ready(admin: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready(admin) {
        assert!(
            std::time::Instant::now() < deadline,
            "replica on admin port {admin} never ready"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn haproxy_config(front: u16, replicas: &[(u16, u16)]) -> String {
    let mut cfg = format!(
        "global\n  maxconn 4096\n\
         defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  retries 3\n  option redispatch 1\n\
         frontend push\n  bind 127.0.0.1:{front}\n  default_backend replicas\n\
         backend replicas\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  \
         default-server inter 100ms fall 1 rise 1\n"
    );
    for (i, (port, admin)) in replicas.iter().enumerate() {
        cfg.push_str(&format!("  server r{i} 127.0.0.1:{port} check port {admin}\n"));
    }
    cfg
}

/// What the library's load saw.
#[derive(Debug, Default)]
struct LibraryLoad {
    requests: u64,
    pushes: u64,
    retried: u64,
    reconnects: u64,
    errors: u64,
    /// The first few errors' messages.
    first_errors: Vec<String>,
}

impl LibraryLoad {
    fn add(&mut self, other: LibraryLoad) {
        self.requests += other.requests;
        self.pushes += other.pushes;
        self.retried += other.retried;
        self.reconnects += other.reconnects;
        self.errors += other.errors;
        for e in other.first_errors {
            self.error(e);
        }
    }

    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(message);
        }
    }
}

/// Clients of the `push-client` library in the load, each on its own
/// connection (so HAProxy spreads them over the replicas).
const LIBRARY_CLIENTS: usize = 3;

/// One client's seed exchange: the response and the three promised
/// responses, all checked.
async fn seed_exchange(client: &Client) -> Result<u64, String> {
    let mut handle = client
        .submit(Request::get("/http2Service"))
        .await
        .map_err(|e| e.to_string())?;
    let mut promises = Vec::new();
    while let Some(promise) = handle.next_promise().await {
        promises.push(promise);
    }
    let response = handle.response().await.map_err(|e| e.to_string())?;
    let json: serde_json::Value = response.json().map_err(|e| e.to_string())?;
    if json["response"]["name"] != "main resource" {
        return Err(format!("unexpected response {json}"));
    }
    let count = promises.len() as u64;
    for promise in promises {
        let path = promise.path().to_owned();
        let pushed = promise.response().await.map_err(|e| format!("{path}: {e}"))?;
        let json: serde_json::Value = pushed.json().map_err(|e| format!("{path}: {e}"))?;
        if json["push"]["name"].as_str().is_none_or(|name| !path.ends_with(name)) {
            return Err(format!("{path}: unexpected push {json}"));
        }
    }
    if count != 3 {
        return Err(format!("{count} promises instead of 3"));
    }
    Ok(count)
}

/// Runs the library's load until `stop`, on its own thread and runtime.
fn library_load(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<LibraryLoad> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut tasks = Vec::new();
            for _ in 0..LIBRARY_CLIENTS {
                let client = Client::connect(&url)
                    .await
                    .expect("the library connects through HAProxy");
                let stop = stop.clone();
                tasks.push(tokio::spawn(async move {
                    let mut load = LibraryLoad::default();
                    while !stop.load(Ordering::Relaxed) {
                        match seed_exchange(&client).await {
                            Ok(pushes) => {
                                load.requests += 1;
                                load.pushes += pushes;
                            }
                            Err(e) => load.error(e),
                        }
                    }
                    load.retried = client.retried();
                    load.reconnects = client.reconnects();
                    client.close().await;
                    load
                }));
            }
            let mut total = LibraryLoad::default();
            for task in tasks {
                total.add(task.await.unwrap());
            }
            total
        })
    })
}

struct Haproxy(Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn rolling_restarts_behind_haproxy_fail_no_request_and_lose_no_push() {
    let dir = std::env::temp_dir().join(format!("push-host-fleet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("cache");
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    // All three at the same moment, on one empty cache directory.
    let mut replicas: Vec<Host> = ports.iter().map(|&(p, a)| replica(p, a, &cache)).collect();
    for (host, &(_, admin)) in replicas.iter_mut().zip(&ports) {
        host.wait_serving();
        wait_ready(admin);
        let log = host.log();
        assert!(
            log.contains("compiled in") || log.contains("loaded from the compile cache"),
            "{log}"
        );
        assert!(
            !log.contains("compile cache entry"),
            "a cache entry was refused:\n{log}"
        );
    }
    let front = free_port();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, haproxy_config(front, &ports)).unwrap();
    let haproxy = Haproxy(
        Command::new("haproxy")
            .args(["-f", cfg.to_str().unwrap(), "-db"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run haproxy (Debian haproxy; scripts/install-test-deps.sh)"),
    );
    let url = format!("http://127.0.0.1:{front}/http2Service");
    // HAProxy serves once a request through it succeeds.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if answers_200(&url, &["--http2-prior-knowledge"]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "HAProxy never answered");
        std::thread::sleep(Duration::from_millis(20));
    }
    let bench = workspace_bin("push-bench");
    let load = Command::new(&bench)
        .args([
            &url, "-c", "6", "-m", "4", "-d", "8", "-w", "0", "--pushes", "3", "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run push-bench");
    let stop = Arc::new(AtomicBool::new(false));
    let library = library_load(url.clone(), stop.clone());
    // Each replica has served some of the load before the restarts begin.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let served: Vec<usize> = replicas
            .iter()
            .map(|h| h.log().matches("GET /http2Service: handled").count())
            .collect();
        if served.iter().all(|&n| n >= 20) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "requests served by each replica: {served:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for (i, &(port, admin)) in ports.iter().enumerate() {
        let old = &mut replicas[i];
        old.signal("TERM");
        let exited = old.wait_exit(Duration::from_secs(30));
        assert!(
            exited.is_some_and(|s| s.success()),
            "replica {i}: {exited:?}\n{}",
            old.log()
        );
        let log = old.log();
        assert!(log.contains("shutdown complete: every request finished"), "{log}");
        // It drained live connections: each original replica keeps the
        // load's connections it got until it restarts.
        let goaway = log.lines().find(|l| l.contains("GOAWAY sent to")).unwrap_or_default();
        assert!(!goaway.contains("GOAWAY sent to 0 connection"), "replica {i}: {goaway}");
        let mut new = replica(port, admin, &cache);
        new.wait_serving();
        wait_ready(admin);
        replicas[i] = new;
    }
    // The load goes on after the last restart (through the replicas that
    // now hold its connections).
    let served = |replicas: &[Host]| -> usize {
        replicas
            .iter()
            .map(|h| h.log().matches("GET /http2Service: handled").count())
            .sum()
    };
    let after = served(&replicas);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while served(&replicas) < after + 50 {
        assert!(std::time::Instant::now() < deadline, "no load after the last restart");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut load = load;
    assert!(
        load.try_wait().unwrap().is_none(),
        "the load ended before the last restart: the test saw nothing"
    );
    let out = load.wait_with_output().unwrap();
    stop.store(true, Ordering::Relaxed);
    let library = library.join().expect("the library's load");
    drop(haproxy);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("push-bench output: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    eprintln!(
        "fleet: {} requests, {} pushes, {} retried, {} errors {}",
        summary["requests"], summary["pushes"], summary["retried"], summary["errors"], summary["errors_by_kind"]
    );
    assert_eq!(summary["errors"], 0, "{summary:#}");
    assert_eq!(
        summary["pushes"].as_u64(),
        summary["requests"].as_u64().map(|n| n * 3),
        "{summary:#}"
    );
    assert!(summary["requests"].as_u64().unwrap() > 0, "{summary:#}");
    eprintln!(
        "fleet, push-client library: {} requests, {} pushes, {} reconnects, {} retried, {} errors",
        library.requests, library.pushes, library.reconnects, library.retried, library.errors
    );
    assert_eq!(library.errors, 0, "{library:#?}");
    assert!(library.requests > 0, "{library:#?}");
    assert_eq!(library.pushes, library.requests * 3, "{library:#?}");
    // Every client's first replica restarted under it: each had to move.
    assert!(library.reconnects >= LIBRARY_CLIENTS as u64, "{library:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}
