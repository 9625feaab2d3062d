//! Upgrading one machine without refusing a connection, each way under a
//! load of new connections (one request each, as clients arriving during a
//! restart make them): systemd socket activation (the socket outlives the
//! process: the test holds it, as systemd does, and restarts push-host on
//! it) and `--reuse-port` (the new process listens beside the old one, then
//! the old one drains). Each counts refused connections and failed requests
//! while the old process stops and the new one starts.

mod support;

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use support::{Host, guest, push_host_bin};

/// What the churn saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

/// `clients` tasks, each connecting anew for every `GET /hello` until
/// `stop`: a connect error counts as refused, anything but a 200 with the
/// hello body as failed.
fn churn(addr: SocketAddr, clients: usize, stop: Arc<AtomicBool>) -> (Arc<Tally>, Vec<tokio::task::JoinHandle<()>>) {
    let tally = Arc::new(Tally::default());
    let tasks = (0..clients)
        .map(|_| {
            let (tally, stop) = (tally.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match one_request(addr).await {
                        Ok(()) => tally.ok.fetch_add(1, Ordering::Relaxed),
                        Err(Refused) => tally.refused.fetch_add(1, Ordering::Relaxed),
                        Err(Failed(why)) => {
                            eprintln!("failed: {why}");
                            tally.failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    (tally, tasks)
}

enum Outcome {
    Refused,
    Failed(String),
}
use Outcome::{Failed, Refused};

async fn one_request(addr: SocketAddr) -> Result<(), Outcome> {
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|_| Refused)?;
    let work = async {
        let (send, conn) = h2::client::handshake(tcp)
            .await
            .map_err(|e| Failed(format!("handshake: {e}")))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut send = send.ready().await.map_err(|e| Failed(format!("ready: {e}")))?;
        let request = http::Request::get(format!("http://{addr}/hello")).body(()).unwrap();
        let (response, _) = send
            .send_request(request, true)
            .map_err(|e| Failed(format!("send: {e}")))?;
        let response = response.await.map_err(|e| Failed(format!("response: {e}")))?;
        let status = response.status();
        let mut body = response.into_body();
        let mut text = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk: Bytes = chunk.map_err(|e| Failed(format!("body: {e}")))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            text.extend_from_slice(&chunk);
        }
        if status != 200 || !String::from_utf8_lossy(&text).starts_with("hello") {
            return Err(Failed(format!("{status} {}", String::from_utf8_lossy(&text))));
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .unwrap_or_else(|_| Err(Failed("no answer in 30 s".into())))
}

/// Waits (without sleeping blind: it polls the tally) until `n` more
/// requests than `from` have succeeded.
async fn until_ok(tally: &Tally, from: u64, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tally.ok.load(Ordering::Relaxed) < from + n {
        assert!(tokio::time::Instant::now() < deadline, "the load stalled");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Stops the churn and checks what it saw: nothing refused, nothing
/// failed, and the `new` process served some of it.
async fn settle(way: &str, stop: Arc<AtomicBool>, tasks: Vec<tokio::task::JoinHandle<()>>, tally: &Tally, new: &Host) {
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let (ok, refused, failed) = (
        tally.ok.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
    );
    eprintln!("{way}: {ok} ok, {refused} refused, {failed} failed");
    assert_eq!((refused, failed), (0, 0), "{ok} ok");
    assert!(
        new.log().contains("GET /hello: handled"),
        "the new process served:\n{}",
        new.log()
    );
}

/// push-host on `socket` passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID
/// its own pid, as systemd starts a socket-activated service.
fn activated(socket: &std::net::TcpListener) -> Host {
    let fd = socket.as_raw_fd();
    let module = guest("test_guests");
    let mut command = Command::new("sh");
    command.args([
        "-c",
        r#"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@""#,
        push_host_bin().to_str().unwrap(),
        "--module",
        module.to_str().unwrap(),
    ]);
    // SAFETY: dup2 is async-signal-safe; it runs in the forked child only.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut host = Host::spawn_command(command, "info");
    host.wait_serving();
    host
}

/// The socket outlives the process (the test holds it, as systemd does):
/// connections made while no push-host runs wait in its backlog, and the
/// next one serves them. Broken (push-host binding a socket of its own
/// instead), the new process serves another port and the queued clients
/// are never answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_activation_restarts_refuse_no_connection() {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let mut old = activated(&socket);
    assert_eq!(old.addr, addr, "serves the socket it was passed");
    let stop = Arc::new(AtomicBool::new(false));
    let (tally, tasks) = churn(addr, 8, stop.clone());
    until_ok(&tally, 0, 200).await;
    old.signal("TERM");
    let exited = tokio::task::block_in_place(|| old.wait_exit(Duration::from_secs(30)));
    assert!(exited.is_some_and(|s| s.success()), "{exited:?}\n{}", old.log());
    let at_restart = tally.ok.load(Ordering::Relaxed);
    let new = tokio::task::block_in_place(|| activated(&socket));
    until_ok(&tally, at_restart, 200).await;
    settle("socket activation", stop, tasks, &tally, &new).await;
}

/// `--reuse-port`: the new process listens on the same address beside the
/// old one, then the old one drains and exits. The kernel moves the
/// connections queued at the old socket to the new one only with
/// `net.ipv4.tcp_migrate_req = 1` (Linux 5.14+), which the README's upgrade
/// procedure sets and this test checks. Broken (no SO_REUSEPORT), the new
/// process cannot start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_port_upgrades_refuse_no_connection() {
    let migrate = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_migrate_req").unwrap_or_default();
    assert_eq!(
        migrate.trim(),
        "1",
        "net.ipv4.tcp_migrate_req must be 1 (scripts/test.sh sets it; README: upgrades)"
    );
    let module = guest("test_guests");
    let module = module.to_str().unwrap();
    let mut old = Host::start(guest("test_guests").as_path(), &["--reuse-port"]);
    let addr = old.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let (tally, tasks) = churn(addr, 8, stop.clone());
    until_ok(&tally, 0, 200).await;
    let listen = addr.to_string();
    let new = tokio::task::block_in_place(|| {
        let mut command = Command::new(push_host_bin());
        command.args(["--module", module, "--listen", &listen, "--reuse-port"]);
        let mut host = Host::spawn_command(command, "info");
        host.wait_serving();
        host
    });
    old.signal("TERM");
    let exited = tokio::task::block_in_place(|| old.wait_exit(Duration::from_secs(30)));
    assert!(exited.is_some_and(|s| s.success()), "{exited:?}\n{}", old.log());
    let at_exit = tally.ok.load(Ordering::Relaxed);
    until_ok(&tally, at_exit, 200).await;
    settle("reuse-port", stop, tasks, &tally, &new).await;
}
