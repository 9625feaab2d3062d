//! The seed service written in Python (componentize-py) and JavaScript
//! (componentize-js) against `wit/push.wit`, and as `wasi:http@0.3`
//! handlers pushing through `push:handler@0.2.0` (Rust with the `wasip3`
//! crate, Python with componentize-py 0.25), served by the real `push-host`:
//! the seed's exact transcript through `push-client --reject /resource2`,
//! and, per stream, the same `nghttp -nv` frames as the Rust example. The
//! Python and JavaScript seeds use the helper modules (guest-sdk/python,
//! guest-sdk/js), whose error classes test-guests-polyglot/ checks.
//!
//! Declared by `client/Cargo.toml` (test `polyglot`); the components are
//! built by `scripts/build-guests.sh` (scripts/test.sh runs it).

#[path = "../client/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::BTreeMap;

use common::{CliRun, SEED_STORY, run_cli};
use support::nghttp::{Recv, nghttp, received};
use support::{Host, guest};

/// The 0.1 seeds in Python and JavaScript, and the 0.3 seeds that push
/// through push:handler@0.2.0 in Rust and Python.
const GUESTS: [&str; 4] = [
    "http2_service_py",
    "http2_service_js",
    "http2_service_p3",
    "http2_service_p3_py",
];

async fn prints_the_seed_transcript(name: &str) {
    let host = Host::start(&guest(name), &[]);
    let url = format!("{}/http2Service", host.url());
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--reject", "/resource2"]).await;
    assert_eq!(code, Some(0), "{name}: stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), SEED_STORY, "{name}: {stderr}");
    assert_eq!(stderr, "", "{name}");
    let line = host.expect_log("GET /http2Service: handled in");
    assert!(
        line.contains("status=200") && line.contains("promised=3"),
        "{name}: {line}"
    );
}

#[tokio::test]
async fn python_seed_prints_the_seed_transcript() {
    prints_the_seed_transcript(GUESTS[0]).await;
}

#[tokio::test]
async fn javascript_seed_prints_the_seed_transcript() {
    prints_the_seed_transcript(GUESTS[1]).await;
}

#[tokio::test]
async fn rust_p3_seed_prints_the_seed_transcript() {
    prints_the_seed_transcript(GUESTS[2]).await;
}

#[tokio::test]
async fn python_p3_seed_prints_the_seed_transcript() {
    prints_the_seed_transcript(GUESTS[3]).await;
}

/// The frames received, grouped by stream (each stream's own order), with
/// the fields of each header block: what must not depend on the language.
/// A frame as compared across languages: kind, DATA length, flags, fields.
type Seen = (String, u32, String, Vec<(String, String)>);

fn per_stream(frames: &[Recv]) -> BTreeMap<u32, Vec<Seen>> {
    let mut streams: BTreeMap<u32, Vec<_>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.stream != 0) {
        let fields = f.fields.iter().filter(|(n, _)| n != "date").cloned().collect();
        // A header block's size depends on what HPACK's dynamic table holds,
        // i.e. on which block was encoded first; its decoded fields are
        // compared instead.
        let length = if f.kind == "DATA" { f.length } else { 0 };
        streams
            .entry(f.stream)
            .or_default()
            .push((f.kind.clone(), length, f.flags.clone(), fields));
    }
    streams
}

/// The seed's wire order: every PUSH_PROMISE precedes the main response's
/// HEADERS, which precede its DATA.
fn assert_seed_order(name: &str, frames: &[Recv], verbose: &str) {
    let promises: Vec<usize> = (0..frames.len())
        .filter(|i| frames[*i].kind == "PUSH_PROMISE")
        .collect();
    assert_eq!(promises.len(), 3, "{name}: {verbose}");
    let main = frames[promises[0]].stream;
    let headers = frames
        .iter()
        .position(|f| f.stream == main && f.kind == "HEADERS")
        .unwrap_or_else(|| panic!("{name}: no main HEADERS: {verbose}"));
    assert!(promises.iter().all(|p| *p < headers), "{name}: {verbose}");
    let paths: Vec<_> = promises
        .iter()
        .map(|p| frames[*p].field(":path").unwrap_or(""))
        .collect();
    assert_eq!(paths, ["/resource1", "/resource2", "/resource3"], "{name}: {verbose}");
}

#[test]
fn every_seed_sends_the_rust_seeds_frames() {
    let rust = Host::start(&guest("http2_service"), &[]);
    let verbose = nghttp(&["-nv", &format!("{}/http2Service", rust.url())]);
    let expected_frames = received(&verbose);
    assert_seed_order("rust", &expected_frames, &verbose);
    let mut expected = per_stream(&expected_frames);
    for fields in expected.values_mut().flatten() {
        fields.3.retain(|(n, v)| n != ":authority" || v.is_empty());
    }
    for name in GUESTS {
        let host = Host::start(&guest(name), &[]);
        let verbose = nghttp(&["-nv", &format!("{}/http2Service", host.url())]);
        let frames = received(&verbose);
        assert_seed_order(name, &frames, &verbose);
        let mut got = per_stream(&frames);
        for fields in got.values_mut().flatten() {
            fields.3.retain(|(n, v)| n != ":authority" || v.is_empty());
        }
        assert_eq!(got, expected, "{name}: {verbose}");
        // nghttp prints the bodies without -v: the response and the three pushes.
        let bodies = nghttp(&[&format!("{}/http2Service", host.url())]);
        for body in [
            r#"{"response":{"name":"main resource"}}"#,
            r#"{"push":{"name":"resource1"}}"#,
            r#"{"push":{"name":"resource2"}}"#,
            r#"{"push":{"name":"resource3"}}"#,
        ] {
            assert!(bodies.contains(body), "{name}: {body} missing: {bodies}");
        }
    }
}

/// With push off, each language's `promise` gets `push-disabled`, which it
/// logs in the seed's words; the host announces the paths as early hints.
#[test]
fn with_push_off_the_guests_report_push_disabled_in_the_log() {
    for name in GUESTS {
        let host = Host::start(&guest(name), &[]);
        let verbose = nghttp(&["-v", "--no-push", &format!("{}/http2Service", host.url())]);
        assert!(!verbose.contains("PUSH_PROMISE"), "{name}: {verbose}");
        assert!(verbose.contains(":status: 103"), "{name}: {verbose}");
        let line = host.expect_log("Error occurred while sending the promise1: push-disabled");
        assert!(line.contains("stderr:"), "{name}: {line}");
    }
}

/// The helper modules (`push_guest`, guest-sdk/python; `push-guest.js`,
/// guest-sdk/js) raise each WIT error as its own class: the test guests
/// (test-guests-polyglot/caught.{py,js}) provoke every case a request can
/// meet, catch each by its class (`except Invalid` / `instanceof Invalid`)
/// and log it with its kind, whether it is also a `PushError`, and its
/// message, which must read as the Rust SDK's `Error` displays it.
#[test]
fn the_helpers_raise_each_error_as_its_class() {
    for name in ["caught_py", "caught_js"] {
        let host = Host::start(&guest(name), &["--max-pushes", "2"]);
        let verbose = nghttp(&["-v", &format!("{}/caught", host.url())]);
        for body in ["caught", "one", "two"] {
            assert!(verbose.lines().any(|l| l == body), "{name}: {body} missing: {verbose}");
        }
        let language = if name == "caught_py" { "python" } else { "javascript" };
        assert!(verbose.contains(&format!("x-guest: {language}")), "{name}: {verbose}");
        for expected in [
            "caught promise POST: Invalid (invalid, a PushError): invalid: ",
            "caught promise /one again: Refused (refused, a PushError): refused: the client reset or refused the promised stream",
            "caught third promise: LimitExceeded (limit-exceeded, a PushError): limit-exceeded: at most 2 pushes per request",
            "caught respond again: AlreadyResponded (already-responded, a PushError): already-responded: the main response was already sent",
            "caught promise after respond: Closed (closed, a PushError): closed: the stream or connection is closed",
        ] {
            let line = host.expect_log(expected);
            assert!(line.contains("stderr:"), "{name}: {line}");
        }
        let line = host.expect_log("GET /caught: handled in");
        assert!(
            line.contains("promised=2") && line.contains("pushed=2"),
            "{name}: {line}"
        );

        let off = nghttp(&["--no-push", &format!("{}/caught?push=off", host.url())]);
        assert!(off.contains("push off"), "{name}: {off}");
        host.expect_log(
            "caught promise: PushDisabled (push-disabled, a PushError): push-disabled: the client disabled server push",
        );
        let log = host.log();
        assert!(
            !log.contains("wrong class") && !log.contains("no error"),
            "{name}: {log}"
        );
    }
}
