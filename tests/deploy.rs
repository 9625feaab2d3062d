//! `deploy/kubernetes.yaml` is valid and matches the binary: the Kubernetes
//! schemas (kubernetes-validate, installed by scripts/test.sh into the build
//! tree), and `push-host --check` on the pod's arguments and the ConfigMap's
//! hosting file (scripts/check-deploy.py). Broken (a misspelt field in the
//! manifest, or a flag the binary does not have in the pod's args), it
//! fails and names what.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{guest, push_host_bin, run_bounded};

/// The python of the kubernetes-validate venv (scripts/lib/tools.sh).
fn validator_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let python = target.join("tools/kubernetes-validate-1.37.0/bin/python");
    assert!(
        python.exists(),
        "{} not found: scripts/test.sh installs kubernetes-validate",
        python.display()
    );
    python
}

#[test]
fn the_kubernetes_example_is_valid_and_push_host_accepts_it() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let guests = guest("http2_service").parent().unwrap().to_owned();
    let out = run_bounded(
        Command::new(validator_python())
            .arg(root.join("scripts/check-deploy.py"))
            .args([
                "--host",
                push_host_bin().to_str().unwrap(),
                "--guests",
                guests.to_str().unwrap(),
            ]),
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("valid, and push-host accepts"), "{stdout}");
}
