//! push-client (library and CLI) against the real `push-host` serving the
//! seed's `http2-service` example: the seed's transcript exactly, the host
//! seeing the reset of `/resource2`, and `--no-push`.
//!
//! Declared by `client/Cargo.toml` (test `client_seed`); needs push-host and
//! the guest built (scripts/test.sh).

#[path = "../client/tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{CliRun, SEED_STORY, TIMEOUT, run_cli, within};
use push_client::{Client, Request};
use support::{Host, guest};

fn seed_host() -> Host {
    Host::start(&guest("http2_service"), &[])
}

/// Waits until one line of the host's log contains all of `needles`.
fn wait_for_line(host: &Host, needles: &[&str], timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let log = host.log();
        if let Some(line) = log.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return Some(line.to_owned());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn cli_prints_the_seed_transcript_exactly_over_tls() {
    let pki = support::pki::Pki::new("client-seed");
    let host = pki.start(&guest("http2_service"));
    let url = format!("https://localhost:{}/http2Service", host.addr.port());
    let ca = pki.ca.to_str().unwrap();
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--reject", "/resource2", "--cacert", ca]).await;
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, SEED_STORY, "stderr:\n{stderr}");
    // Without the CA the certificate is refused, in one line, exit 1.
    let CliRun { code, stdout, stderr } = run_cli(&[&url]).await;
    assert_eq!(code, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.starts_with("push-client: error: TLS: handshake with localhost:"),
        "{stderr}"
    );
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // --insecure accepts it.
    let CliRun { code, stdout, .. } = run_cli(&[&url, "--insecure", "--reject", "/resource2"]).await;
    assert_eq!(
        (code, stdout.lines().collect::<Vec<_>>()),
        (Some(0), SEED_STORY.to_vec())
    );
}

#[tokio::test]
async fn cli_prints_the_seed_transcript_exactly() {
    let host = seed_host();
    let url = format!("{}/http2Service", host.url());
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--reject", "/resource2"]).await;
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, SEED_STORY, "stderr:\n{stderr}");
    assert_eq!(stderr, "");
}

/// A reset only exists for a push still in flight: when the seed service has
/// already finished pushing `/resource2` (it pushes at once), the client has
/// nothing to reset (RFC 9113 forbids RST_STREAM on a closed stream). So
/// this test uses the seed that waits, before its pushes, until the client
/// has refused `/resource2` (`/seed-slow?refused=/resource2`).
#[tokio::test]
async fn host_sees_rst_stream_for_resource2() {
    let host = Host::start(&guest("test_guests"), &[]);
    let url = format!("{}/seed-slow?refused=/resource2", host.url());
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--reject", "/resource2"]).await;
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, SEED_STORY, "stderr:\n{stderr}");
    // The guest's push of /resource2 was refused, as the seed would log it.
    wait_for_line(
        &host,
        &["Error occurred while sending the promised response2", "refused"],
        TIMEOUT,
    )
    .unwrap_or_else(|| panic!("push of /resource2 not refused:\n{}", host.log()));
    let line = wait_for_line(&host, &["reset", "/resource2"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no reset of /resource2 in the host log:\n{}", host.log()));
    assert!(line.contains("CANCEL"), "{line}");
    for wanted in ["/resource1", "/resource3"] {
        assert!(
            wait_for_line(&host, &["reset", wanted], Duration::ZERO).is_none(),
            "{wanted} was not rejected; log:\n{}",
            host.log()
        );
    }
}

#[tokio::test]
async fn cli_no_push_prints_the_response_and_no_promises() {
    let host = seed_host();
    let url = format!("{}/http2Service", host.url());
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--no-push"]).await;
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, [SEED_STORY[4]], "stderr:\n{stderr}");
}

#[tokio::test]
async fn cli_json_reports_each_event() {
    let host = seed_host();
    let url = format!("{}/http2Service", host.url());
    let CliRun { code, stdout, stderr } = run_cli(&[&url, "--reject", "/resource2", "--json"]).await;
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "promise",
            "promise",
            "rejected",
            "promise",
            "response",
            "promised_response",
            "promised_response"
        ]
    );
    assert_eq!(events[0]["authority"], host.addr.to_string());
    assert_eq!(events[4]["json"]["response"]["name"], "main resource");
    assert_eq!(events[6]["json"]["push"]["name"], "resource3");
}

#[tokio::test]
async fn library_walks_the_seed_like_the_ballerina_client() {
    let host = seed_host();
    let client = within("connect", Client::connect(&host.url())).await.unwrap();
    let mut handle = client.submit(Request::get("/http2Service")).await.unwrap();
    let mut kept = Vec::new();
    let mut seen = Vec::new();
    while within("has_promise", handle.has_promise()).await {
        let promise = handle.next_promise().await.unwrap();
        assert_eq!(promise.authority(), Some(client.authority()));
        seen.push(promise.path().to_owned());
        if promise.path() == "/resource2" {
            handle.reject(promise);
        } else {
            kept.push(promise);
        }
    }
    assert_eq!(seen, ["/resource1", "/resource2", "/resource3"]);
    assert!(handle.refused_promises().is_empty());
    let response = within("response", handle.response()).await.unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap(),
        serde_json::json!({"response": {"name": "main resource"}})
    );
    let mut names = Vec::new();
    for promise in kept {
        let pushed = within("pushed", handle.promised_response(promise)).await.unwrap();
        let body: serde_json::Value = pushed.json().unwrap();
        names.push(body["push"]["name"].as_str().unwrap().to_owned());
    }
    assert_eq!(names, ["resource1", "resource3"]);
}
