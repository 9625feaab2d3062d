//! Start-up checks: a bad `--module` exits non-zero with one clear line.

mod support;

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("push-host-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs push-host on `module`; returns its stderr, asserting a non-zero exit.
fn fails(module: &std::path::Path) -> String {
    fails_with(module, &[])
}

fn fails_with(module: &std::path::Path, args: &[&str]) -> String {
    let out = support::run_bounded(
        Command::new(support::push_host_bin())
            .arg("--module")
            .arg(module)
            .args(["--listen", "127.0.0.1:0"])
            .args(args),
        std::time::Duration::from_secs(60),
    );
    assert!(!out.status.success(), "push-host accepted {}", module.display());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("Serving HTTP/2"), "{stderr}");
    stderr
}

#[test]
fn missing_file() {
    let err = fails(std::path::Path::new("/nonexistent/service.wasm"));
    assert!(err.contains("cannot read module /nonexistent/service.wasm"), "{err}");
}

#[test]
fn not_wasm() {
    let err = fails(&scratch("readme.wasm", b"hello, I am text\n"));
    assert!(err.contains("is not a WebAssembly file"), "{err}");
}

#[test]
fn core_module_instead_of_component() {
    // The smallest valid core module: magic and version 1.
    let err = fails(&scratch("core.wasm", b"\0asm\x01\0\0\0"));
    assert!(err.contains("is a core WebAssembly module, not a component"), "{err}");
}

#[test]
fn corrupt_component() {
    let err = fails(&scratch("corrupt.wasm", b"\0asm\x0d\0\x01\0\xff\xff\xff"));
    assert!(err.contains("is not a valid component"), "{err}");
}

#[test]
fn component_without_the_handler_export() {
    // An empty component: valid, but exports nothing.
    let err = fails(&scratch("empty.wasm", b"\0asm\x0d\0\x01\0"));
    assert!(
        err.contains(
            "exports none of push:handler/handler@0.1.0, wasi:http/incoming-handler@0.2 and wasi:http/handler@0.3"
        ),
        "{err}"
    );
}

#[test]
fn component_needing_more_memory_than_allowed() {
    // Rust guests start with just over 1 MiB of linear memory.
    let err = fails_with(&support::guest("test_guests"), &["--memory-mb", "1"]);
    assert!(err.contains("does not fit the instance limits"), "{err}");
}

#[test]
fn prints_exactly_one_serving_line_with_the_real_address() {
    let host = support::Host::start(&support::guest("hello"), &[]);
    assert_ne!(host.addr.port(), 0);
    let log = host.log();
    assert_eq!(log.matches("Serving HTTP/2 on").count(), 1, "{log}");
    assert!(
        log.contains(&format!("Serving HTTP/2 on http://{}/\n", host.addr)),
        "{log}"
    );
}

/// Runs `push-host --module MODULE --check ARGS...`; returns its stderr,
/// asserting success.
fn check(module: &std::path::Path, args: &[&str]) -> String {
    let out = support::run_bounded(
        Command::new(support::push_host_bin())
            .arg("--module")
            .arg(module)
            .arg("--check")
            .args(args),
        std::time::Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    stderr
}

#[test]
fn the_compile_cache_serves_a_restart_and_rebuilds_a_bad_entry() {
    let dir = std::env::temp_dir().join(format!("push-host-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let module = support::guest("http2_service");
    let args = ["--cache-dir", dir.to_str().unwrap()];
    assert!(check(&module, &args).contains("compiled in"));
    let warm = check(&module, &args);
    assert!(warm.contains("loaded from the compile cache"), "{warm}");
    assert!(!warm.contains("compiled in"), "{warm}");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("a cache entry");
    // A flipped byte: the digest no longer matches; never handed to wasmtime.
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    let rebuilt = check(&module, &args);
    assert!(
        rebuilt.contains("ignored: its contents do not match their digest (corrupt or truncated); rebuilding it"),
        "{rebuilt}"
    );
    assert!(rebuilt.contains("compiled in"), "{rebuilt}");
    assert!(check(&module, &args).contains("loaded from the compile cache"));
    // A stale entry whose digest matches but that wasmtime refuses.
    std::fs::write(&entry, b"not a compiled component").unwrap();
    let digest = entry.with_extension("cwasm.sha256");
    let sha = Command::new("sha256sum").arg(&entry).output().unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout);
    std::fs::write(&digest, sha.split_whitespace().next().unwrap()).unwrap();
    let refused = check(&module, &args);
    assert!(refused.contains("ignored: wasmtime refused it"), "{refused}");
    assert!(check(&module, &args).contains("loaded from the compile cache"));
    // --no-cache compiles every time and writes nothing.
    assert!(check(&module, &["--no-cache"]).contains("compiled in"));
    let _ = std::fs::remove_dir_all(&dir);
}
