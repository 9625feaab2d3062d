//! `push-host new NAME --lang LANG`: every template builds with the
//! toolchains the test command installs (offline for Rust: only crates
//! already fetched), is served by the real `push-host`, and answers `/`
//! with its page, promising `/style.css` and pushing it. The same project
//! is also tested the way its README says: `push-host call`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{Host, author, h2c, push_host_bin, run_bounded};

/// Runs `push-host new NAME --lang LANG` in a fresh directory, then the
/// project's `build.sh` with `env`; the built component's path.
fn new_and_build(name: &str, lang: &str, env: &[(&str, PathBuf)]) -> PathBuf {
    let parent = std::env::temp_dir().join(format!("push-host-new-{}-{lang}", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(&parent).unwrap();
    let out = run_bounded(
        Command::new(push_host_bin())
            .args(["new", name, "--lang", lang])
            .current_dir(&parent),
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("./build.sh"), "{stdout}");
    let dir = parent.join(name);
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(
        readme.contains("./build.sh") && readme.contains(&format!("push-host --module {name}.wasm")),
        "{readme}"
    );
    let mut build = Command::new(dir.join("build.sh"));
    for (key, value) in env {
        build.env(key, value);
    }
    let out = run_bounded(&mut build, Duration::from_secs(900));
    assert!(
        out.status.success(),
        "{lang}: build.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let module = dir.join(format!("{name}.wasm"));
    assert!(module.is_file(), "{lang}: build.sh made no {}", module.display());
    module
}

/// Serves `module` and requests `/`: the page, with `/style.css` promised
/// and pushed; then `push-host call` on it says the same.
async fn serves_with_its_push(module: &Path, name: &str) {
    let host = Host::start(module, &[]);
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/").await;
    assert_eq!(ex.response.status, 200, "{}", ex.response.text());
    assert!(
        ex.response.text().contains(&format!("Hello from {name}")),
        "{}",
        ex.response.text()
    );
    let promised: Vec<&str> = ex.promises.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(promised, ["/style.css"]);
    let (path, pushed) = &ex.pushes[0];
    assert_eq!(path, "/style.css");
    let pushed = pushed.as_ref().expect("the stylesheet is pushed");
    assert!(pushed.text().contains("rebeccapurple"), "{}", pushed.text());
    // Asked for directly (a client that did not take the push).
    let css = h2c::get(&mut send, host.addr, "/style.css").await;
    assert!(css.response.text().contains("rebeccapurple"));

    let out = run_bounded(
        Command::new(push_host_bin()).args(["call", "--module", module.to_str().unwrap(), "/"]),
        Duration::from_secs(60),
    );
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}");
    assert!(
        transcript.contains("< promise GET /style.css") && transcript.contains("< push /style.css: 200"),
        "{transcript}"
    );
}

/// Runs the project's own tests as its README says (`command` in the
/// project, push-host on PATH): they pass and their output says `passed`.
fn passes_its_own_tests(module: &Path, command: &[&str], env: &[(&str, PathBuf)], passed: &str) {
    let mut test = Command::new(command[0]);
    test.args(&command[1..])
        .current_dir(module.parent().unwrap())
        .env("PATH", author::path_with_push_host());
    for (key, value) in env {
        test.env(key, value);
    }
    let out = tokio::task::block_in_place(|| run_bounded(&mut test, Duration::from_secs(900)));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && all.contains(passed), "{command:?}:\n{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_template_builds_serves_and_pushes() {
    let module = tokio::task::block_in_place(|| new_and_build("my-rust-app", "rust", &author::toolchains()));
    serves_with_its_push(&module, "my-rust-app").await;
    passes_its_own_tests(&module, &["cargo", "test"], &author::toolchains(), "2 passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_0_3_template_builds_serves_and_pushes() {
    let module = tokio::task::block_in_place(|| new_and_build("my-p3-app", "rust-0.3", &author::toolchains()));
    serves_with_its_push(&module, "my-p3-app").await;
    passes_its_own_tests(&module, &["cargo", "test"], &author::toolchains(), "2 passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_template_builds_serves_and_pushes() {
    let module = tokio::task::block_in_place(|| new_and_build("my-py-app", "python", &author::toolchains()));
    serves_with_its_push(&module, "my-py-app").await;
    passes_its_own_tests(
        &module,
        &["python3", "-m", "unittest", "-v"],
        &author::toolchains(),
        "Ran 2 tests",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_template_builds_serves_and_pushes() {
    let module = tokio::task::block_in_place(|| new_and_build("my-js-app", "javascript", &author::toolchains()));
    serves_with_its_push(&module, "my-js-app").await;
    passes_its_own_tests(&module, &["node", "--test"], &author::toolchains(), "# pass 2");
}

/// A name that cannot be a package, or a directory already used, is
/// refused with one line and nothing written.
#[test]
fn a_bad_name_or_a_used_directory_is_refused() {
    let parent = std::env::temp_dir().join(format!("push-host-new-{}-refused", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(parent.join("taken")).unwrap();
    std::fs::write(parent.join("taken/keep.txt"), "mine").unwrap();
    for (name, why) in [
        ("Bad Name", "is not a project name"),
        ("taken", "exists and is not empty"),
    ] {
        let out = run_bounded(
            Command::new(push_host_bin()).args(["new", name]).current_dir(&parent),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(why), "{name}: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(parent.join("taken/keep.txt")).unwrap(), "mine");
    assert!(!parent.join("Bad Name").exists());
}
