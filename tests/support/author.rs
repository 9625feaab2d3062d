//! For the tests that build handler projects as an author would
//! (`tests/new.rs`, `tests/walkthrough.rs`): the environment that gives
//! their build scripts the toolchains the test command installed, and a
//! PATH with this build's `push-host` first.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{push_host_bin, target_dir};

/// A version pinned in scripts/lib/tools.sh (`NAME=VERSION`).
pub fn pinned(name: &str) -> String {
    let tools = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/tools.sh")).unwrap();
    let prefix = format!("{name}=");
    tools
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not in tools.sh"))
        .to_string()
}

/// Rust projects build offline into `target/templates`; componentize-py
/// and componentize-js come from `target/tools` (the variables the book
/// and the templates' build scripts name).
pub fn toolchains() -> Vec<(&'static str, PathBuf)> {
    let tools = target_dir().join("tools");
    vec![
        ("CARGO_TARGET_DIR", target_dir().join("templates")),
        ("CARGO_NET_OFFLINE", PathBuf::from("true")),
        (
            "COMPONENTIZE_PY",
            tools.join(format!(
                "componentize-py-{}/bin/componentize-py",
                pinned("COMPONENTIZE_PY_VERSION")
            )),
        ),
        (
            "PUSH_HOST_JS_TOOLS",
            tools.join(format!("componentize-js-{}", pinned("COMPONENTIZE_JS_VERSION"))),
        ),
    ]
}

/// PATH with the directory of this build's `push-host` first.
pub fn path_with_push_host() -> OsString {
    let bin_dir = push_host_bin().parent().unwrap().to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&path))).unwrap()
}
