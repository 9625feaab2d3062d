//! The library against a hand-written server side, for frames `h2::server`
//! will not send: a promise for an unsafe method, more promises than the
//! client allows, a connection cut in the middle of a body. The server side
//! reads every RST_STREAM the client sends, so each refusal's
//! [`reason`](push_client::RefusedPromise::reason) is checked against the
//! code that really arrived.

mod common;

use common::raw::{self, RawConn};
use common::{PUSH_LIMIT, TestServer, closing_mid_body_server, over_push_limit_server, within};
use push_client::{Client, Error, Reason, Refusal, Request};
use tokio::sync::mpsc;

#[tokio::test]
async fn promise_for_an_unsafe_method_is_refused_and_reported() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = TestServer::with_connections(move |socket| {
        let tx = tx.clone();
        async move {
            let mut conn = RawConn::start(socket).await;
            let stream = conn.request().await;
            let authority = format!("127.0.0.1:{}", conn.socket.local_addr().unwrap().port());
            let promise = |method| {
                [
                    (":method", method),
                    (":scheme", "http"),
                    (":authority", authority.as_str()),
                    (":path", "/unsafe"),
                ]
            };
            conn.push_promise(stream, 2, &promise("POST")).await;
            conn.push_promise(stream, 4, &promise("GET")).await;
            conn.headers(stream, &[(":status", "200")], false).await;
            conn.data(stream, b"main", true).await;
            let reset = conn
                .read_until(|f| f.kind == raw::RST_STREAM && f.stream == 2)
                .await
                .expect("RST_STREAM for the POST promise");
            let _ = tx.send(raw::rst_code(&reset));
            conn.headers(4, &[(":status", "200")], false).await;
            conn.data(4, b"safe", true).await;
            // Serve until the client goes away.
            while conn.read_frame().await.is_some() {}
        }
    })
    .await;

    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let mut delivered = common::all_promises(&mut handle).await;
    assert_eq!(delivered.len(), 1, "only the GET promise is delivered");
    assert_eq!(delivered[0].stream_id(), 4);

    let refused = handle.refused_promises();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].stream_id, 2);
    assert_eq!(refused[0].refusal, Refusal::RefusedByProtocolLayer);

    // h2 resets an unsafe promise with PROTOCOL_ERROR on its own.
    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(code, u32::from(Reason::PROTOCOL_ERROR));
    assert_eq!(refused[0].reason(), Some(Reason::from(code)));
    assert_eq!(handle.response().await.unwrap().bytes(), "main");
    let safe = delivered.pop().unwrap();
    assert_eq!(within("push", safe.response()).await.unwrap().bytes(), "safe");
}

#[tokio::test]
async fn server_closing_mid_body_is_a_typed_error() {
    let server = closing_mid_body_server().await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    assert!(!within("has_promise", handle.has_promise()).await);
    let err = within("response", handle.response()).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("the connection was closed while receiving the response to GET /"),
        "{message}"
    );
}

#[tokio::test]
async fn push_promise_on_a_foreign_scheme_is_refused() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = TestServer::with_connections(move |socket| {
        let tx = tx.clone();
        async move {
            let mut conn = RawConn::start(socket).await;
            let stream = conn.request().await;
            let authority = format!("127.0.0.1:{}", conn.socket.local_addr().unwrap().port());
            let headers = [
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", authority.as_str()),
                (":path", "/tls-only"),
            ];
            conn.push_promise(stream, 2, &headers).await;
            conn.headers(stream, &[(":status", "200")], false).await;
            conn.data(stream, b"main", true).await;
            let reset = conn
                .read_until(|f| f.kind == raw::RST_STREAM && f.stream == 2)
                .await
                .expect("RST_STREAM for the https promise");
            let _ = tx.send(raw::rst_code(&reset));
            while conn.read_frame().await.is_some() {}
        }
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    assert!(!within("has_promise", handle.has_promise()).await);
    let refused = &handle.refused_promises()[0];
    assert!(matches!(
        &refused.refusal,
        Refusal::ForeignScheme { promised, .. } if promised == "https"
    ));
    // h2 sent CANCEL; the tap rewrote it on the wire.
    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(code, u32::from(Reason::PROTOCOL_ERROR));
    assert_eq!(refused.reason(), Some(Reason::from(code)));
}

/// `h2` refuses a push beyond the client's concurrency limit itself, with
/// REFUSED_STREAM: `reason()` reports that code, the one the server got.
#[tokio::test]
async fn push_beyond_the_limit_reports_the_code_h2_sent() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = over_push_limit_server(tx).await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let delivered = common::all_promises(&mut handle).await;
    assert_eq!(delivered.len(), PUSH_LIMIT as usize);

    let refused = handle.refused_promises();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].stream_id, 2 * (PUSH_LIMIT + 1));
    assert_eq!(refused[0].refusal, Refusal::RefusedByProtocolLayer);
    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(code, u32::from(Reason::REFUSED_STREAM));
    assert_eq!(refused[0].reason(), Some(Reason::from(code)));
    assert_eq!(handle.response().await.unwrap().bytes(), "main");
}

/// A raw server promising `/held` (kept open) and `/done` (pushed in full
/// at once), reporting each RST_STREAM it receives as `Some((stream,
/// code))`, then `None` when the client has closed the connection.
async fn held_and_done_server(resets: mpsc::UnboundedSender<Option<(u32, u32)>>) -> TestServer {
    TestServer::with_connections(move |socket| {
        let resets = resets.clone();
        async move {
            let mut conn = RawConn::start(socket).await;
            let stream = conn.request().await;
            for (promised, path) in [(2, "/held"), (4, "/done")] {
                conn.push_get(stream, promised, path).await;
            }
            conn.headers(4, &[(":status", "200")], false).await;
            conn.data(4, b"done", true).await;
            conn.headers(stream, &[(":status", "200")], false).await;
            conn.data(stream, b"main", true).await;
            while let Some(frame) = conn.read_frame().await {
                if frame.kind == raw::RST_STREAM {
                    let _ = resets.send(Some((frame.stream, raw::rst_code(&frame))));
                }
            }
            let _ = resets.send(None);
        }
    })
    .await
}

/// A user rejection reports the CANCEL the server received; rejecting a
/// push that has already arrived in full sends nothing and says so.
#[tokio::test]
async fn user_rejection_reports_the_code_the_server_received() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = held_and_done_server(tx).await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let mut promises = common::all_promises(&mut handle).await;
    assert_eq!(handle.response().await.unwrap().bytes(), "main");
    let done = promises.pop().unwrap();
    let held = promises.pop().unwrap();
    assert_eq!((held.path(), done.path()), ("/held", "/done"));

    let rejected = within("reject /held", held.reject_and_confirm()).await;
    assert_eq!((rejected.stream_id, &rejected.refusal), (2, &Refusal::Rejected));
    assert_eq!(rejected.path(), Some("/held"));
    let (stream, code) = within("server saw the reset", rx.recv()).await.unwrap().unwrap();
    assert_eq!(stream, 2);
    assert_eq!(code, u32::from(Reason::CANCEL));
    assert_eq!(rejected.reason(), Some(Reason::from(code)));

    // Fully received (END_STREAM): the stream is closed, nothing to reset.
    let started = std::time::Instant::now();
    let rejected = within("reject /done", done.reject_and_confirm()).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "no wait for a reset"
    );
    assert_eq!((rejected.stream_id, rejected.reason()), (4, None));
    drop(handle);
    within("close", client.close()).await;
    let rest = within("server saw the close", rx.recv()).await.unwrap();
    assert_eq!(rest, None, "no other reset reached the server");
}
