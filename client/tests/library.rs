//! The library against an in-test HTTP/2 server built on `h2::server`, so
//! every frame order is under the test's control and the server side can
//! observe resets (`SendPushedResponse::poll_reset`).

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{
    TIMEOUT, TestServer, closed_port, push_body, reset_within, respond_with, same_origin, seed_server, within,
};
use push_client::{Client, Error, Reason, Refusal, Request};
use serde_json::json;
use tokio::sync::mpsc;

/// Everything the server reported, waiting for `n` reports.
async fn observed(rx: &mut mpsc::UnboundedReceiver<String>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        out.push(within("server report", rx.recv()).await.expect("server report"));
    }
    out
}

#[tokio::test]
async fn seed_walk_promises_first_reject_one_then_responses() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = seed_server(tx).await;
    let client = within("connect", Client::connect(&server.url("/"))).await.unwrap();
    let mut handle = client.submit(Request::get("/http2Service")).await.unwrap();
    assert_eq!(handle.request(), "GET /http2Service");

    let mut kept = Vec::new();
    let mut seen = Vec::new();
    while within("has_promise", handle.has_promise()).await {
        let promise = handle.next_promise().await.expect("has_promise said so");
        assert_eq!(promise.method(), "GET");
        assert_eq!(promise.authority(), Some(client.authority()));
        seen.push(promise.path().to_owned());
        if promise.path() == "/resource2" {
            handle.reject(promise);
        } else {
            kept.push(promise);
        }
    }
    assert_eq!(seen, ["/resource1", "/resource2", "/resource3"]);
    assert!(handle.next_promise().await.is_none());
    assert!(handle.refused_promises().is_empty());

    let response = within("response", handle.response()).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["content-type"], "application/json");
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body, json!({"response": {"name": "main resource"}}));
    // A second call returns the same response.
    assert_eq!(handle.response().await.unwrap(), response);

    let mut pushed = Vec::new();
    for promise in kept {
        let r = within("promised", handle.promised_response(promise)).await.unwrap();
        pushed.push(r.text().unwrap().to_owned());
    }
    assert_eq!(
        pushed,
        [r#"{"push":{"name":"resource1"}}"#, r#"{"push":{"name":"resource3"}}"#]
    );
    let mut reports = observed(&mut rx, 3).await;
    reports.sort();
    assert_eq!(
        reports,
        ["/resource1 pushed", "/resource2 reset: CANCEL", "/resource3 pushed"]
    );
}

#[tokio::test]
async fn promises_after_response_headers_and_between_data_frames() {
    let server = TestServer::h2(|request, mut respond| async move {
        let mut stream = respond.send_response(http::Response::new(()), false).unwrap();
        let mut early = respond.push_request(same_origin(&request, "/after-headers")).unwrap();
        stream.send_data(Bytes::from_static(b"part one, "), false).unwrap();
        let head = http::Request::head(same_origin(&request, "/mid-body").uri().clone())
            .body(())
            .unwrap();
        let mut late = respond.push_request(head).unwrap();
        stream.send_data(Bytes::from_static(b"part two"), true).unwrap();
        push_body(&mut early, "early");
        late.send_response(http::Response::new(()), true).unwrap();
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let first = within("promise 1", handle.next_promise()).await.unwrap();
    let second = within("promise 2", handle.next_promise()).await.unwrap();
    assert_eq!((first.path(), first.method().as_str()), ("/after-headers", "GET"));
    assert_eq!((second.path(), second.method().as_str()), ("/mid-body", "HEAD"));
    assert!(!within("no more promises", handle.has_promise()).await);
    let response = within("response", handle.response()).await.unwrap();
    assert_eq!(response.text().unwrap(), "part one, part two");
    assert_eq!(within("push 1", first.response()).await.unwrap().bytes(), "early");
    let head = within("push 2", second.response()).await.unwrap();
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
}

/// hyperium/h2#811: END_STREAM on a DATA frame does not wake a pending
/// `push_promise()`. The client must still see the end of the promises.
#[tokio::test]
async fn end_stream_on_data_ends_the_promises_without_hanging() {
    let server = TestServer::h2(|request, mut respond| async move {
        if request.uri().path() == "/with-one" {
            let mut pushed = respond.push_request(same_origin(&request, "/one")).unwrap();
            respond_with(&mut respond, "text/plain", "main");
            push_body(&mut pushed, "one");
        } else {
            // Let the client wait on the promises first, then end the body.
            let mut stream = respond.send_response(http::Response::new(()), false).unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            stream.send_data(Bytes::from_static(b"main"), true).unwrap();
        }
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();

    let mut handle = client.submit(Request::get("/none")).await.unwrap();
    let wait = tokio::time::timeout(Duration::from_secs(3), handle.has_promise()).await;
    assert_eq!(wait, Ok(false), "has_promise must return once the body ends");
    assert_eq!(handle.response().await.unwrap().bytes(), "main");

    let mut handle = client.submit(Request::get("/with-one")).await.unwrap();
    assert!(within("has_promise", handle.has_promise()).await);
    let one = handle.next_promise().await.unwrap();
    let wait = tokio::time::timeout(Duration::from_secs(3), handle.has_promise()).await;
    assert_eq!(wait, Ok(false));
    assert_eq!(within("push", one.response()).await.unwrap().bytes(), "one");
}

#[tokio::test]
async fn promise_for_another_authority_is_refused_with_protocol_error() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = TestServer::h2(move |request, mut respond| {
        let tx = tx.clone();
        async move {
            let foreign = http::Request::get("http://evil.example/steal").body(()).unwrap();
            let mut evil = respond.push_request(foreign).unwrap();
            let mut good = respond.push_request(same_origin(&request, "/good")).unwrap();
            respond_with(&mut respond, "text/plain", "main");
            // Hold the foreign push open until the client resets it.
            let reason = reset_within(&mut evil, Duration::from_secs(5)).await;
            let _ = tx.send(format!("evil reset: {reason:?}"));
            push_body(&mut good, "good");
        }
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();

    let mut delivered = common::all_promises(&mut handle).await;
    let paths: Vec<_> = delivered.iter().map(|p| p.path()).collect();
    assert_eq!(paths, ["/good"], "the foreign promise is not delivered");

    let refused = handle.refused_promises();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].reason(), Some(Reason::PROTOCOL_ERROR));
    assert_eq!(refused[0].path(), Some("/steal"));
    assert_eq!(
        refused[0].refusal,
        Refusal::ForeignAuthority {
            promised: "evil.example".into(),
            expected: client.authority().into(),
        }
    );
    // What the server received is what `reason()` reports.
    let expected = format!("evil reset: {:?}", refused[0].reason());
    assert_eq!(observed(&mut rx, 1).await, [expected]);
    assert_eq!(handle.response().await.unwrap().bytes(), "main");
    let good = delivered.pop().unwrap();
    assert_eq!(within("good push", good.response()).await.unwrap().bytes(), "good");
}

/// Pushed responses are read only when asked for; pushes left unread must
/// not starve the main response of connection-level flow control.
#[tokio::test]
async fn large_unread_pushes_do_not_block_the_main_response() {
    const SIZE: usize = 300_000;
    let server = TestServer::h2(|request, mut respond| async move {
        let mut streams = Vec::new();
        for i in 0..8 {
            let mut pushed = respond
                .push_request(same_origin(&request, &format!("/big{i}")))
                .unwrap();
            let mut stream = pushed.send_response(http::Response::new(()), false).unwrap();
            stream.send_data(Bytes::from(vec![b'0' + i; SIZE]), true).unwrap();
            streams.push((pushed, stream));
        }
        let mut main = respond.send_response(http::Response::new(()), false).unwrap();
        main.send_data(Bytes::from(vec![b'm'; SIZE]), true).unwrap();
        // Keep the handles until the client is done with the pushes.
        tokio::time::sleep(TIMEOUT).await;
        drop(streams);
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let promises = common::all_promises(&mut handle).await;
    assert_eq!(promises.len(), 8);
    let main = within("main response", handle.response()).await.unwrap();
    assert_eq!(main.body.len(), SIZE);
    for (i, promise) in promises.into_iter().enumerate() {
        let pushed = within("push", promise.response()).await.unwrap();
        assert_eq!(pushed.body.len(), SIZE);
        assert!(pushed.body.iter().all(|&b| b == b'0' + i as u8));
    }
}

#[tokio::test]
async fn request_method_headers_and_body_are_sent() {
    let server = TestServer::h2(|request, mut respond| async move {
        let (parts, mut body) = request.into_parts();
        let mut received = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            received.extend_from_slice(&chunk);
        }
        let echo = json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path_and_query().unwrap().as_str(),
            "x-test": parts.headers["x-test"].to_str().unwrap(),
            "content-type": parts.headers["content-type"].to_str().unwrap(),
            "body": String::from_utf8(received).unwrap(),
        });
        respond_with(&mut respond, "application/json", &echo.to_string());
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let request = Request::new(http::Method::PUT, "/items?id=7")
        .header("x-test", "yes")
        .json(&json!({"n": 1}));
    let mut handle = client.submit(request).await.unwrap();
    let echo: serde_json::Value = within("response", handle.response()).await.unwrap().json().unwrap();
    assert_eq!(
        echo,
        json!({"method": "PUT", "path": "/items?id=7", "x-test": "yes",
               "content-type": "application/json", "body": r#"{"n":1}"#})
    );
}

#[tokio::test]
async fn no_push_tells_the_server_not_to_push() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = seed_server(tx).await;
    let client = Client::builder()
        .enable_push(false)
        .connect(&server.url(""))
        .await
        .unwrap();
    let mut handle = client.submit(Request::get("/http2Service")).await.unwrap();
    assert!(!within("has_promise", handle.has_promise()).await);
    let response = handle.response().await.unwrap();
    assert_eq!(response.text().unwrap(), r#"{"response":{"name":"main resource"}}"#);
    let reports = observed(&mut rx, 1).await;
    assert!(
        reports[0].starts_with("push refused: ") && reports[0].contains("disabled server push"),
        "{reports:?}"
    );
}

#[tokio::test]
async fn resets_by_the_server_are_typed_with_their_reason() {
    let server = TestServer::h2(|request, mut respond| async move {
        if request.uri().path() == "/reset-main" {
            respond.send_reset(h2::Reason::INTERNAL_ERROR);
            return;
        }
        let mut pushed = respond.push_request(same_origin(&request, "/p")).unwrap();
        respond_with(&mut respond, "text/plain", "main");
        pushed.send_reset(h2::Reason::REFUSED_STREAM);
        tokio::time::sleep(Duration::from_millis(500)).await;
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();

    let mut handle = client.submit(Request::get("/reset-main")).await.unwrap();
    let err = within("response", handle.response()).await.unwrap_err();
    assert!(
        matches!(&err, Error::StreamReset { reason, .. } if *reason == Reason::INTERNAL_ERROR),
        "{err:?}"
    );
    assert!(err.to_string().contains("INTERNAL_ERROR"), "{err}");
    assert!(!handle.has_promise().await);

    let mut handle = client.submit(Request::get("/push-reset")).await.unwrap();
    let promise = within("promise", handle.next_promise()).await.unwrap();
    assert_eq!(handle.response().await.unwrap().bytes(), "main");
    let err = within("pushed", promise.response()).await.unwrap_err();
    assert_eq!(err.reason(), Some(Reason::REFUSED_STREAM), "{err:?}");
    assert!(err.to_string().contains("pushed response for /p"), "{err}");
}

#[tokio::test]
async fn connect_errors_are_typed() {
    let port = closed_port().await;
    let err = within("connect", Client::connect(&format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(
        err.unwrap_err(),
        Error::ConnectionRefused {
            addr: format!("127.0.0.1:{port}")
        }
    );
    let err = Client::connect("http//missing-colon").await.unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    let err = Client::connect("ftp://127.0.0.1:1/").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedScheme { .. }), "{err:?}");
    let port = closed_port().await;
    let err = Client::connect(&format!("https://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::ConnectionRefused {
            addr: format!("127.0.0.1:{port}")
        }
    );
}

#[tokio::test]
async fn invalid_requests_and_bodies_are_typed() {
    let server = TestServer::h2(|_, mut respond| async move {
        respond_with(&mut respond, "text/plain", "not json");
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let err = client.submit(Request::get("no-slash")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    let err = client
        .submit(Request::get("/").header("connection", "close"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");

    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let response = within("response", handle.response()).await.unwrap();
    let err = response.json::<serde_json::Value>().unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
    let err = response.clone().error_for_status("GET /").map(|_| ());
    assert_eq!(err, Ok(()));
}

/// A program that rejects a promise and exits at once (like the CLI) must
/// call `close`, or the RST_STREAM never leaves: the connection task gets
/// no chance to write it before the runtime goes away.
#[test]
fn close_flushes_a_reject_before_the_runtime_ends() {
    let server_runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = server_runtime.block_on(TestServer::h2(move |request, mut respond| {
        let tx = tx.clone();
        async move {
            let mut pushed = respond.push_request(same_origin(&request, "/x")).unwrap();
            respond_with(&mut respond, "text/plain", "main");
            let reason = reset_within(&mut pushed, Duration::from_secs(5)).await;
            let _ = tx.send(format!("{reason:?}"));
        }
    }));

    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_runtime.block_on(async {
        let client = Client::connect(&server.url("")).await.unwrap();
        let mut handle = client.submit(Request::get("/")).await.unwrap();
        let promise = within("promise", handle.next_promise()).await.unwrap();
        assert_eq!(within("response", handle.response()).await.unwrap().bytes(), "main");
        // No await between the reject and `close`.
        promise.reject();
        drop(handle);
        within("close", client.close()).await;
    });
    drop(client_runtime);

    let seen = server_runtime.block_on(within("server report", rx.recv()));
    assert_eq!(seen.as_deref(), Some("Some(CANCEL)"));
}
