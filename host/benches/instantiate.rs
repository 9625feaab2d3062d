//! What the sandbox costs per request, without HTTP/2: a fresh `Store` and
//! instance from the pre-instantiated component (`instantiate`), and that
//! plus the handler's `handle` with a caller that refuses every call
//! (`instantiate+handle`), for the `hello` and seed (`http2-service`)
//! guests, with the pool's pages kept resident (default) and without.
//!
//! Needs the guests built: `scripts/build-guests.sh` (or `bench/run`), then
//! `cargo bench -p push-host`.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use push_host::{Limits, Runtime, WitRequest};

/// The allocator the `push-host` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn guest(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} not found: run scripts/build-guests.sh first",
        path.display()
    );
    path
}

fn request() -> WitRequest {
    WitRequest {
        method: "GET".into(),
        scheme: "http".into(),
        authority: "127.0.0.1:7090".into(),
        path: "/http2Service".into(),
        headers: vec![("user-agent".into(), b"bench".to_vec())],
        body: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let req = request();
    for keep_resident in [true, false] {
        for name in ["hello", "http2_service"] {
            let limits = Limits {
                keep_resident,
                ..Limits::default()
            };
            let runtime = rt
                .block_on(Runtime::load(&guest(name), limits))
                .expect("load the guest");
            let pages = if keep_resident { "resident" } else { "madvise" };
            c.bench_function(&format!("{name}/{pages}/instantiate"), |b| {
                b.iter(|| rt.block_on(runtime.run_detached(None)).unwrap())
            });
            c.bench_function(&format!("{name}/{pages}/instantiate+handle"), |b| {
                b.iter(|| rt.block_on(runtime.run_detached(Some(&req))).unwrap())
            });
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
