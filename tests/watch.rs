//! `push-host --module X --watch`: the module is reloaded when its file
//! changes, atomically, under load: the old version serves until the new
//! one has loaded (no request fails), a broken build keeps the old one and
//! the log says why, and a file replaced by a rename (as linkers and
//! editors do) is seen too.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::{Host, guest, h2c};

/// A directory of its own with `service.wasm`, a copy of the guest `name`.
fn module_dir(test: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("push-host-watch-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(guest(name), dir.join("service.wasm")).unwrap();
    dir
}

/// Requests `/hello` over one h2c connection until `stop`: (served, what
/// failed, how many of the served carried pushes).
async fn load(addr: std::net::SocketAddr, stop: Arc<AtomicBool>) -> (u32, Vec<String>, u32) {
    let mut send = h2c::connect(addr, true).await;
    let (mut ok, mut failed, mut pushed) = (0u32, Vec::new(), 0u32);
    while !stop.load(Ordering::SeqCst) {
        match h2c::try_exchange(&mut send, addr, "/hello", Default::default()).await {
            Ok(ex) if ex.response.status == 200 => {
                ok += 1;
                if !ex.pushes.is_empty() && ex.pushes.iter().all(|(_, r)| r.is_ok()) {
                    pushed += 1;
                }
            }
            Ok(ex) => failed.push(format!("{} {}", ex.response.status, ex.response.text())),
            Err(e) => failed.push(e.to_string()),
        }
    }
    (ok, failed, pushed)
}

/// Under continuous load: the hello guest is replaced by the seed (copied
/// over in place), then by a broken build (not installed: the seed keeps
/// serving, the log names the cause), then by hello again through a
/// rename. Not one request fails, and the seed's requests carry its
/// pushes. Broken (`--watch` serving the first version only): the body
/// never changes and the wait for the `reloaded` line fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_module_reloads_under_load_and_keeps_the_old_one_when_the_new_one_is_broken() {
    let dir = module_dir("load", "hello");
    let module = dir.join("service.wasm");
    let host = Host::start(&module, &["--watch"]);
    let addr = host.addr;
    let body = || async move {
        let mut send = h2c::connect(addr, true).await;
        h2c::get(&mut send, addr, "/hello").await.response.text()
    };
    assert_eq!(body().await, "Hello from push-host!\n");
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(addr, stop.clone()));
    let seed = r#"{"response":{"name":"main resource"}}"#;

    // 1. The seed copied over the file in place.
    std::fs::copy(guest("http2_service"), &module).unwrap();
    host.expect_log_async(&format!("reloaded {}", module.display())).await;
    assert_eq!(body().await, seed);

    // 2. A broken build is not installed; the seed keeps serving.
    std::fs::write(&module, b"\0asm\x0d\0\x01\0 truncated").unwrap();
    let line = host
        .expect_log_async("reload failed, the previous version keeps serving")
        .await;
    assert!(line.contains("service.wasm"), "the line names the module: {line}");
    assert_eq!(body().await, seed);

    // 3. Replaced through a rename, as a linker or an editor does.
    let next = dir.join("service.wasm.tmp");
    std::fs::copy(guest("hello"), &next).unwrap();
    std::fs::rename(&next, &module).unwrap();
    tokio::task::block_in_place(|| host.expect_log_lines("reloaded ", 2));
    assert_eq!(body().await, "Hello from push-host!\n");

    stop.store(true, Ordering::SeqCst);
    let (ok, failed, pushed) = load.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} failed of {}: {failed:?}",
        failed.len(),
        ok as usize + failed.len()
    );
    assert!(ok > 20, "only {ok} requests during the reloads");
    assert!(pushed > 0, "no request of the seed's version carried its pushes");
}

/// `--watch` needs `--module`: with `--config` (which watches its files
/// already) it is refused at start with a line naming the flags.
#[test]
fn watch_without_a_module_is_refused() {
    let out = support::run_bounded(
        std::process::Command::new(support::push_host_bin()).args(["--watch", "--native-seed"]),
        std::time::Duration::from_secs(30),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--watch") && stderr.contains("--module"), "{stderr}");
}
