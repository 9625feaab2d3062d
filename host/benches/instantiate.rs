//! What the sandbox costs per request, without HTTP/2: a fresh `Store` and
//! instance from the pre-instantiated component (`instantiate`), and that
//! plus the handler's `handle` with a caller that refuses every call
//! (`instantiate+handle`), for the `hello` and seed (`http2-service`)
//! guests, with the pool's pages kept resident (default) and without; and,
//! resident only, the seed written in Python (`http2_service_py`,
//! componentize-py) and JavaScript (`http2_service_js`, componentize-js),
//! and a standard `wasi:http` component (`wasi_http_page`, whose response
//! is read whole). The Python and JavaScript seeds log one error per refused
//! call (rate-limited, as in the host).
//!
//! Needs the guests built: `scripts/build-guests.sh` (or `bench/run`), then
//! `cargo bench -p push-host` (`PUSH_HOST_BENCH_GUESTS=hello` for one guest).

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

fn request(path: &str) -> WitRequest {
    WitRequest {
        method: "GET".into(),
        scheme: "http".into(),
        authority: "127.0.0.1:7090".into(),
        path: path.into(),
        headers: vec![("user-agent".into(), b"bench".to_vec())],
        body: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs = [
        (true, "hello"),
        (true, "http2_service"),
        (true, "http2_service_py"),
        (true, "http2_service_js"),
        (true, "wasi_http_page"),
        // WASI 0.3 against 0.2 and 0.1: the smallest component of each
        // (hello_p3 answers like hello; test_guests_http's /asset/ok is a
        // one-line 0.2 answer) and the seed pushing through 0.2.0.
        (true, "hello_p3"),
        (true, "test_guests_http"),
        (true, "http2_service_p3"),
        (false, "hello"),
        (false, "http2_service"),
    ];
    // `PUSH_HOST_BENCH_GUESTS=hello,http2_service` loads only those (each
    // guest is compiled at start, the Python and JS ones for ~30 s).
    let only = std::env::var("PUSH_HOST_BENCH_GUESTS").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    for (keep_resident, name) in runs {
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let req = request(match name {
            "wasi_http_page" => "/",
            "test_guests_http" => "/asset/ok",
            _ => "/http2Service",
        });
        {
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
