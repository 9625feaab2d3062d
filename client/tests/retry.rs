//! A request the server did not process is sent again (RFC 9113 §8.7), and
//! one it may have processed never is; after a `GOAWAY` new requests go on
//! a new connection. Hand-written server sides send exactly the frames in
//! question: a `GOAWAY` below the request's stream, a `REFUSED_STREAM`, a
//! `GOAWAY` that covers the request followed by a cut connection, a server
//! that goes away every time, and one that drains after a request. Each server counts
//! the connections and requests it got, so a retry is seen from both ends.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::raw::{self, RawConn};
use common::{TestServer, within};
use push_client::{Client, Error, Reason, Request};

const GOAWAY: u8 = 0x7;

/// A `GOAWAY` payload: last-stream-id, then the error code.
fn goaway(last_stream: u32, code: Reason) -> Vec<u8> {
    let mut payload = last_stream.to_be_bytes().to_vec();
    payload.extend(u32::from(code).to_be_bytes());
    payload
}

/// Answers `stream` with 200 and `body`, after promising `/pushed` on it
/// as stream `promised`.
async fn answer_with_a_push(conn: &mut RawConn, stream: u32, promised: u32, body: &[u8]) {
    conn.push_get(stream, promised, "/pushed").await;
    conn.headers(stream, &[(":status", "200")], false).await;
    conn.data(stream, body, true).await;
    conn.headers(promised, &[(":status", "200")], false).await;
    conn.data(promised, b"pushed", true).await;
}

/// Counts what a server got: connections, and request HEADERS.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

impl Seen {
    /// Counts a new connection; its number (0 first).
    fn connection(&self) -> usize {
        self.connections.fetch_add(1, Ordering::SeqCst)
    }

    async fn request(&self, conn: &mut RawConn) -> u32 {
        let stream = conn.request().await;
        self.requests.fetch_add(1, Ordering::SeqCst);
        stream
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.connections.load(Ordering::SeqCst),
            self.requests.load(Ordering::SeqCst),
        )
    }
}

/// A server whose first connection says GOAWAY with last-stream-id 0 as
/// the request arrives (a replica draining for a restart), and whose later
/// connections answer.
async fn draining_then_serving(seen: Arc<Seen>) -> TestServer {
    counting_server(&seen, |n, mut conn, seen| async move {
        if n == 0 {
            seen.request(&mut conn).await;
            conn.write_frame(GOAWAY, 0, 0, &goaway(0, Reason::NO_ERROR)).await;
            while conn.read_frame().await.is_some() {}
            return;
        }
        let mut promised = 2;
        while let Some(request) = conn.read_until(|f| f.kind == raw::HEADERS).await {
            seen.requests.fetch_add(1, Ordering::SeqCst);
            answer_with_a_push(&mut conn, request.stream, promised, b"second").await;
            promised += 2;
        }
    })
    .await
}

/// A server on loopback counting in `seen` each connection (and what it
/// asks `seen` to count), serving each with `serve(number, conn, seen)`.
async fn counting_server<F, Fut>(seen: &Arc<Seen>, serve: F) -> TestServer
where
    F: Fn(usize, RawConn, Arc<Seen>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (seen, serve) = (seen.clone(), Arc::new(serve));
    TestServer::with_connections(move |socket| {
        let (seen, serve) = (seen.clone(), serve.clone());
        async move {
            let n = seen.connection();
            let conn = RawConn::start(socket).await;
            serve(n, conn, seen).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_request_above_the_goaway_s_last_stream_is_sent_again_on_a_new_connection() {
    let seen = Arc::new(Seen::default());
    let server = draining_then_serving(seen.clone()).await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let promises = within("the promises", common::all_promises(&mut handle)).await;
    let response = within("the response", handle.response()).await.unwrap();
    assert_eq!(response.text().unwrap(), "second");
    // The promise of the second attempt reaches the handle as usual.
    let paths: Vec<&str> = promises.iter().map(|p| p.path()).collect();
    assert_eq!(paths, ["/pushed"]);
    let pushed = within("the push", promises.into_iter().next().unwrap().response()).await;
    assert_eq!(pushed.unwrap().text().unwrap(), "pushed");
    assert_eq!(handle.retries(), 1);
    assert_eq!(client.retried(), 1);
    assert_eq!(seen.counts(), (2, 2), "(connections, requests) the server got");
    // Later requests go on the new connection.
    let mut next = client.submit(Request::get("/")).await.unwrap();
    assert_eq!(
        within("the next", next.response()).await.unwrap().text().unwrap(),
        "second"
    );
    assert_eq!((next.retries(), client.retried(), client.reconnects()), (0, 1, 1));
    assert_eq!(seen.counts(), (2, 3));
}

#[tokio::test]
async fn a_refused_stream_is_sent_again_on_the_same_connection() {
    let seen = Arc::new(Seen::default());
    let server = counting_server(&seen, |_, mut conn, seen| async move {
        let first = seen.request(&mut conn).await;
        conn.write_frame(
            raw::RST_STREAM,
            0,
            first,
            &u32::from(Reason::REFUSED_STREAM).to_be_bytes(),
        )
        .await;
        let second = seen.request(&mut conn).await;
        answer_with_a_push(&mut conn, second, 2, b"after the refusal").await;
        while conn.read_frame().await.is_some() {}
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut handle = client.submit(Request::get("/")).await.unwrap();
    let promises = within("the promises", common::all_promises(&mut handle)).await;
    let response = within("the response", handle.response()).await.unwrap();
    assert_eq!(response.text().unwrap(), "after the refusal");
    assert_eq!(promises.len(), 1);
    assert_eq!((handle.retries(), handle.stream_id()), (1, 3));
    assert_eq!(seen.counts(), (1, 2), "(connections, requests) the server got");
}

#[tokio::test]
async fn a_request_the_server_may_have_processed_is_never_sent_twice() {
    // GOAWAY covering the request, then the connection cut: the request
    // fails and is not sent again, whatever the GOAWAY's code.
    for code in [Reason::NO_ERROR, Reason::INTERNAL_ERROR] {
        let seen = Arc::new(Seen::default());
        let server = counting_server(&seen, move |_, mut conn, seen| async move {
            let stream = seen.request(&mut conn).await;
            conn.write_frame(GOAWAY, 0, 0, &goaway(stream, code)).await;
            // Dropping `conn` cuts the connection.
        })
        .await;
        let client = Client::connect(&server.url("")).await.unwrap();
        let mut handle = client.submit(Request::get("/")).await.unwrap();
        let err = within("the response", handle.response()).await.unwrap_err();
        assert!(
            matches!(err, Error::ConnectionClosed { .. } | Error::GoAway { .. }),
            "{code:?}: {err}"
        );
        assert_eq!((handle.retries(), client.retried()), (0, 0), "{code:?}: {err}");
        assert_eq!(seen.counts(), (1, 1), "{code:?}: (connections, requests)");
    }
}

#[tokio::test]
async fn retries_stop_at_the_budget_with_the_server_s_error() {
    let seen = Arc::new(Seen::default());
    let server = counting_server(&seen, |_, mut conn, seen| async move {
        seen.request(&mut conn).await;
        conn.write_frame(GOAWAY, 0, 0, &goaway(0, Reason::NO_ERROR)).await;
        while conn.read_frame().await.is_some() {}
    })
    .await;
    for budget in [0, 2] {
        let before = seen.counts();
        let client = Client::builder()
            .max_retries(budget)
            .connect(&server.url(""))
            .await
            .unwrap();
        let mut handle = client.submit(Request::get("/")).await.unwrap();
        let err = within("the response", handle.response()).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::GoAway {
                    reason: Reason::NO_ERROR,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!((handle.retries(), client.retried()), (budget, u64::from(budget)));
        let after = seen.counts();
        let tries = budget as usize + 1;
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (tries, tries),
            "budget {budget}"
        );
    }
}

#[tokio::test]
async fn a_request_submitted_after_the_goaway_goes_on_a_new_connection_without_a_retry() {
    let seen = Arc::new(Seen::default());
    let server = counting_server(&seen, |n, mut conn, seen| async move {
        let stream = seen.request(&mut conn).await;
        if n == 0 {
            // Drains: this stream is the last it processes. The
            // GOAWAY goes before the answer, so the client has read
            // it once it has the response.
            conn.write_frame(GOAWAY, 0, 0, &goaway(stream, Reason::NO_ERROR)).await;
        }
        answer_with_a_push(&mut conn, stream, 2, format!("connection {n}").as_bytes()).await;
        while conn.read_frame().await.is_some() {}
    })
    .await;
    let client = Client::connect(&server.url("")).await.unwrap();
    let mut first = client.submit(Request::get("/")).await.unwrap();
    let promises = within("the promises", common::all_promises(&mut first)).await;
    assert_eq!(
        within("the first", first.response()).await.unwrap().text().unwrap(),
        "connection 0"
    );
    drop(promises);
    assert_eq!(client.reconnects(), 0);
    let mut second = client.submit(Request::get("/")).await.unwrap();
    let response = within("the second", second.response()).await.unwrap();
    assert_eq!(response.text().unwrap(), "connection 1");
    assert_eq!((second.retries(), client.retried(), client.reconnects()), (0, 0, 1));
    assert_eq!(seen.counts(), (2, 2), "(connections, requests) the server got");
}
