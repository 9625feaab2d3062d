//! The seed scenario end to end: the real `push-host` binary serving the
//! `http2-service` example, seen by a raw `h2` client.

mod support;

use support::h2c::{self, Ask};
use support::{Host, guest};

const MAIN: &str = r#"{"response":{"name":"main resource"}}"#;

fn seed_host() -> Host {
    Host::start(&guest("http2_service"), &[])
}

fn push_body(n: u32) -> String {
    format!(r#"{{"push":{{"name":"resource{n}"}}}}"#)
}

#[tokio::test]
async fn three_promises_arrive_before_the_body_with_the_request_authority() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/http2Service").await;

    let paths: Vec<_> = ex.promises.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/resource1", "/resource2", "/resource3"]);
    for p in &ex.promises {
        assert_eq!(p.authority, host.addr.to_string(), "promise {p:?}");
        assert_eq!(p.scheme, "http");
        assert_eq!(p.method, "GET");
    }
    assert_eq!(ex.promises_before_headers, 3, "all PUSH_PROMISEs precede the response");
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), MAIN);
    assert_eq!(ex.response.headers["content-type"], "application/json");
    let pushes: Vec<_> = ex
        .pushes
        .iter()
        .map(|(path, r)| {
            let r = r.as_ref().expect("push delivered");
            assert_eq!(r.status, 200);
            (path.as_str(), r.text())
        })
        .collect();
    assert_eq!(
        pushes,
        [
            ("/resource1", push_body(1)),
            ("/resource2", push_body(2)),
            ("/resource3", push_body(3))
        ]
    );
}

#[tokio::test]
async fn any_path_is_served_like_the_seed_default_resource() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let ex = h2c::get(&mut send, host.addr, "/some/other?x=1").await;
    assert_eq!(ex.response.text(), MAIN);
    assert_eq!(ex.promises.len(), 3);
    assert_eq!(ex.pushes.len(), 3);
}

#[tokio::test]
async fn rejecting_resource2_keeps_the_other_pushes_and_the_connection() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, true).await;
    let reject = ["/resource2"];
    let ex = h2c::exchange(
        &mut send,
        host.addr,
        "/http2Service",
        Ask {
            reject: &reject,
            ..Ask::default()
        },
    )
    .await;
    assert_eq!(ex.promises.len(), 3);
    assert_eq!(ex.response.text(), MAIN);
    let got: Vec<_> = ex
        .pushes
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_ref().expect("push delivered").text()))
        .collect();
    assert_eq!(got, [("/resource1", push_body(1)), ("/resource3", push_body(3))]);
    // The connection is still good for the next request.
    let again = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert_eq!(again.response.text(), MAIN);
    assert_eq!(again.pushes.len(), 3);
}

#[tokio::test]
async fn a_client_with_push_disabled_still_gets_the_response() {
    let host = seed_host();
    let mut send = h2c::connect(host.addr, false).await;
    let ex = h2c::get(&mut send, host.addr, "/http2Service").await;
    assert!(ex.promises.is_empty());
    assert_eq!(ex.response.status, 200);
    assert_eq!(ex.response.text(), MAIN);
    // The guest logs each failed promise as the seed does; the host forwards it.
    let line = host
        .wait_for_log(
            "Error occurred while sending the promise1",
            std::time::Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("guest stderr not forwarded; log:\n{}", host.log()));
    assert!(
        line.contains("stream=1"),
        "guest log lines are tagged with the stream: {line}"
    );
    assert!(line.to_lowercase().contains("disabled"), "{line}");
}

#[tokio::test]
async fn many_streams_on_one_connection_run_concurrently() {
    let host = seed_host();
    let send = h2c::connect(host.addr, true).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let mut send = send.clone();
        let addr = host.addr;
        tasks.push(tokio::spawn(async move {
            let ex = h2c::get(&mut send, addr, &format!("/http2Service?i={i}")).await;
            assert_eq!(ex.response.text(), MAIN);
            assert_eq!(ex.pushes.len(), 3);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn no_state_survives_between_requests() {
    let host = Host::start(&guest("test_guests"), &[]);
    for _ in 0..2 {
        let mut send = h2c::connect(host.addr, true).await;
        for _ in 0..3 {
            let ex = h2c::get(&mut send, host.addr, "/state").await;
            assert_eq!(ex.response.status, 200);
            assert_eq!(ex.response.text(), "1", "a fresh instance per request");
        }
    }
}
