//! The library against a hand-written server side, for frames `h2::server`
//! will not send: a promise for an unsafe method, a connection cut in the
//! middle of a body.

mod common;

use common::raw::{self, RawConn};
use common::{TestServer, closing_mid_body_server, within};
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
    assert_eq!(refused[0].reason(), Reason::PROTOCOL_ERROR);

    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(code, u32::from(Reason::PROTOCOL_ERROR));
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
    assert!(matches!(
        &handle.refused_promises()[0].refusal,
        Refusal::ForeignScheme { promised, .. } if promised == "https"
    ));
    let code = within("server saw the reset", rx.recv()).await.unwrap();
    assert_eq!(code, u32::from(Reason::PROTOCOL_ERROR));
}
