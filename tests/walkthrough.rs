//! The book's walk-through, run as written: for each language, the
//! `sh,walkthrough-LANG` block of docs/src/getting-started.md goes from
//! nothing to a tested, pushing handler (`push-host new`, `./build.sh`, the
//! project's own tests, `push-host call`). Each block runs in an empty
//! directory with this build's `push-host` on PATH and the toolchains the
//! test command installs (Rust offline, componentize-py and
//! componentize-js from target/tools, as the book's prose says to set
//! them). A missing block fails, so the book cannot lose a language.
//! Broken (a step of the Rust block misspelt in the book): that block
//! fails and the test names it.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{author, run_bounded};

const LANGS: [&str; 4] = ["rust", "rust-0.3", "python", "javascript"];

/// The `sh,walkthrough-LANG` block's lines.
fn block(book: &str, lang: &str) -> Vec<String> {
    let fence = format!("```sh,walkthrough-{lang}");
    let start = book
        .lines()
        .position(|l| l.trim() == fence)
        .unwrap_or_else(|| panic!("getting-started.md has no {fence} block"));
    book.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with("```"))
        .map(str::to_string)
        .collect()
}

fn run_block(lang: &str, lines: &[String]) -> String {
    let dir = std::env::temp_dir().join(format!("push-host-walkthrough-{}-{lang}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("set -euo pipefail\n{}\n", lines.join("\n"));
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("PATH", author::path_with_push_host())
        .envs(author::toolchains());
    let out = run_bounded(&mut bash, Duration::from_secs(900));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the {lang} walk-through failed:\n{script}\n{all}");
    all
}

#[test]
fn the_book_s_walk_through_gives_a_tested_pushing_handler_in_every_language() {
    let book =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/getting-started.md")).unwrap();
    for lang in LANGS {
        let lines = block(&book, lang);
        assert!(
            lines.iter().any(|l| l.starts_with("push-host new "))
                && lines.iter().any(|l| l.starts_with("push-host call ")),
            "{lang}: the block does not start a project and call it: {lines:?}"
        );
        let output = run_block(lang, &lines);
        // The call's transcript: the promise, then the push.
        assert!(
            output.contains("< promise GET /style.css") && output.contains("< push /style.css: 200"),
            "{lang}:\n{output}"
        );
    }
}
