//! A small raw-`h2` client for the integration tests: one request, with the
//! promises it brings, the main response and the accepted pushes.
//!
//! It works around hyperium/h2#811 (a pending `push_promise()` is not woken
//! when the parent's END_STREAM arrives on DATA) by reading the body and the
//! promises together and polling the promises afresh once the body ends.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use h2::client::{PushPromises, PushedResponseFuture, SendRequest};
use http::{HeaderMap, Method, Request};
use tokio::net::TcpStream;

/// Opens an h2c connection (prior knowledge); `push` sets SETTINGS_ENABLE_PUSH.
pub async fn connect(addr: SocketAddr, push: bool) -> SendRequest<Bytes> {
    connect_with(addr, h2::client::Builder::new().enable_push(push)).await
}

/// Opens an h2c connection with a custom client builder.
pub async fn connect_with(addr: SocketAddr, builder: &h2::client::Builder) -> SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.expect("connect to push-host");
    let (send, conn) = builder.handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send.ready().await.expect("connection ready")
}

/// A PUSH_PROMISE as the client saw it.
#[derive(Debug, Clone)]
pub struct Promise {
    /// `:method`.
    pub method: String,
    /// `:path`.
    pub path: String,
    /// `:authority`.
    pub authority: String,
    /// `:scheme`.
    pub scheme: String,
}

/// A finished response (main or pushed).
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Everything one request produced.
#[derive(Debug)]
pub struct Exchange {
    /// The main response.
    pub response: Reply,
    /// Every promise, in arrival order.
    pub promises: Vec<Promise>,
    /// Accepted pushes by path: the pushed response, or the error that ended
    /// it (starting with the reset reason, e.g. `CANCEL: ...`).
    pub pushes: Vec<(String, Result<Reply, String>)>,
}

/// Options for [`exchange`].
#[derive(Default)]
pub struct Ask<'a> {
    /// Method; GET if unset.
    pub method: Option<Method>,
    /// Request body.
    pub body: Bytes,
    /// Promised paths to reject (the pushed stream is reset with CANCEL).
    pub reject: &'a [&'a str],
    /// Extra request headers.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Read no pushed body until the main body has ended (a naive client;
    /// it only finishes if the server sends the main body first).
    pub pushes_after_main: bool,
}

/// Sends one request to `path` and collects everything it brings; panics on
/// protocol errors, times out after 30 s.
pub async fn exchange(send: &mut SendRequest<Bytes>, addr: SocketAddr, path: &str, ask: Ask<'_>) -> Exchange {
    tokio::time::timeout(Duration::from_secs(30), exchange_inner(send, addr, path, ask))
        .await
        .unwrap_or_else(|_| panic!("request {path} timed out"))
        .unwrap_or_else(|e| panic!("request {path} failed: {e}"))
}

/// A plain GET of `path` with the default [`Ask`].
pub async fn get(send: &mut SendRequest<Bytes>, addr: SocketAddr, path: &str) -> Exchange {
    exchange(send, addr, path, Ask::default()).await
}

/// Asserts that `GET /hello` on the `test-guests` component answers `200 hello`.
pub async fn assert_hello(send: &mut SendRequest<Bytes>, addr: SocketAddr) {
    let ex = get(send, addr, "/hello").await;
    assert_eq!((ex.response.status, ex.response.text().as_str()), (200, "hello"));
}

/// Like [`exchange`] but returns the h2 error instead of panicking.
pub async fn try_exchange(
    send: &mut SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
    ask: Ask<'_>,
) -> Result<Exchange, h2::Error> {
    tokio::time::timeout(Duration::from_secs(30), exchange_inner(send, addr, path, ask))
        .await
        .unwrap_or_else(|_| panic!("request {path} timed out"))
}

async fn exchange_inner(
    send: &mut SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
    ask: Ask<'_>,
) -> Result<Exchange, h2::Error> {
    let mut request = Request::builder()
        .method(ask.method.unwrap_or(Method::GET))
        .uri(format!("http://{addr}{path}"));
    for (name, value) in &ask.headers {
        request = request.header(*name, *value);
    }
    let request = request.body(()).unwrap();
    let mut ready = send.clone().ready().await?;
    let (mut future, mut stream) = ready.send_request(request, ask.body.is_empty())?;
    if !ask.body.is_empty() {
        stream.send_data(ask.body, true)?;
    }
    let mut promises = future.push_promises();
    let head = future.await?;
    let mut state = Collect {
        reject: ask.reject,
        seen: Vec::new(),
        accepted: Vec::new(),
        defer: ask.pushes_after_main,
        deferred: Vec::new(),
    };
    // Promises already processed (for wire order, see `wire.rs`).
    let mut promises_done = false;
    while let Some(next) = promises.push_promise().now_or_never() {
        match next {
            Some(p) => state.take(p?),
            None => {
                promises_done = true;
                break;
            }
        }
    }
    let (parts, mut body) = head.into_parts();
    let mut data = BytesMut::new();
    loop {
        tokio::select! {
            chunk = body.data() => match chunk {
                Some(chunk) => {
                    let chunk = chunk?;
                    let _ = body.flow_control().release_capacity(chunk.len());
                    data.extend_from_slice(&chunk);
                }
                None => break,
            },
            p = promises.push_promise(), if !promises_done => match p {
                Some(p) => state.take(p?),
                None => promises_done = true,
            },
        }
    }
    if !promises_done {
        drain_after_end(&mut promises, &mut state).await?;
    }
    let response = Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: data.freeze(),
    };
    let mut pushes = Vec::new();
    for (path, pushed) in state.deferred {
        pushes.push((path, read_pushed(pushed).await.map_err(|e| e.to_string())));
    }
    for (path, reader) in state.accepted {
        pushes.push((path, reader.await.expect("push reader task")));
    }
    Ok(Exchange {
        response,
        promises: state.seen,
        pushes,
    })
}

/// Polls the promises afresh once the body has ended (h2#811).
async fn drain_after_end(promises: &mut PushPromises, state: &mut Collect<'_>) -> Result<(), h2::Error> {
    while let Some(p) = promises.push_promise().await {
        state.take(p?);
    }
    Ok(())
}

struct Collect<'a> {
    reject: &'a [&'a str],
    seen: Vec<Promise>,
    /// Accepted pushes, each read by its own task from the moment it is
    /// promised, so unread pushed data never blocks the connection window.
    accepted: Vec<(String, tokio::task::JoinHandle<Result<Reply, String>>)>,
    /// With [`Ask::pushes_after_main`]: pushes read only after the main body.
    defer: bool,
    deferred: Vec<(String, PushedResponseFuture)>,
}

impl Collect<'_> {
    fn take(&mut self, p: h2::client::PushPromise) {
        let (request, pushed) = p.into_parts();
        let promise = Promise {
            method: request.method().to_string(),
            path: request.uri().path_and_query().map_or("", |p| p.as_str()).to_string(),
            authority: request.uri().authority().map_or("", |a| a.as_str()).to_string(),
            scheme: request.uri().scheme_str().unwrap_or("").to_string(),
        };
        if self.reject.contains(&promise.path.as_str()) {
            drop(pushed); // the last reference: h2 resets the stream with CANCEL
        } else if self.defer {
            self.deferred.push((promise.path.clone(), pushed));
        } else {
            let reader = tokio::spawn(async move {
                read_pushed(pushed).await.map_err(|e| match e.reason() {
                    Some(reason) => format!("{reason:?}: {e}"),
                    None => e.to_string(),
                })
            });
            self.accepted.push((promise.path.clone(), reader));
        }
        self.seen.push(promise);
    }
}

async fn read_pushed(pushed: PushedResponseFuture) -> Result<Reply, h2::Error> {
    let (parts, mut body) = pushed.await?.into_parts();
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: data.freeze(),
    })
}
