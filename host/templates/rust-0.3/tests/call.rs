//! Tests {{name}}.wasm in push-host's sandbox, with no server: each test
//! runs `push-host call` (set PUSH_HOST if push-host is not on PATH).
//! Build first (./build.sh), then: cargo test

use std::process::Command;

/// The exit status and the transcript of one request.
fn call(args: &[&str]) -> (Option<i32>, String) {
    let push_host = std::env::var("PUSH_HOST").unwrap_or_else(|_| "push-host".to_string());
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/{{name}}.wasm");
    let out = Command::new(push_host)
        .args(["call", "--module", module])
        .args(args)
        .output()
        .expect("push-host on PATH, or PUSH_HOST set");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn promises_and_pushes_the_stylesheet() {
    let (code, transcript) = call(&["/"]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.contains("< promise GET /style.css"), "{transcript}");
    assert!(transcript.contains("< push /style.css: 200"), "{transcript}");
    assert!(transcript.contains("Hello from {{name}}"), "{transcript}");
}

#[test]
fn without_push_the_page_is_still_sent() {
    let (code, transcript) = call(&["--no-push", "/"]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(!transcript.contains("< promise"), "{transcript}");
    assert!(transcript.contains("Hello from {{name}}"), "{transcript}");
}
