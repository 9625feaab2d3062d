//! Where a request's main response goes: an `h2` stream, or the HTTP/1.1
//! connection's reply (the response head and a body hyper reads as it is
//! written).

use bytes::Bytes;
use h2::server::SendResponse;
use http_body_util::BodyExt;
use tokio::sync::oneshot;

/// The body of an HTTP/1.1 reply: whole bytes, or a `wasi:http` guest's
/// body as it writes it.
pub type ReplyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A reply body of `bytes`.
pub fn full(bytes: Bytes) -> ReplyBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The main response's destination.
#[derive(Debug)]
pub enum Responder {
    /// An HTTP/2 stream: headers and body go to `h2`, pushes are possible.
    H2(SendResponse<Bytes>),
    /// An HTTP/1.1 request: the whole response is handed back to hyper.
    Http1(oneshot::Sender<http::Response<ReplyBody>>),
}

impl Responder {
    /// Sends a short plain-text error response.
    pub fn send_error(self, status: u16, msg: &str, retry_after: Option<&str>) {
        let body = Bytes::from(format!("{msg}\n"));
        let mut response = http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(http::header::CONTENT_LENGTH, body.len());
        if let Some(secs) = retry_after {
            response = response.header(http::header::RETRY_AFTER, secs);
        }
        match self {
            Responder::H2(mut respond) => {
                let response = response.body(()).expect("static error response");
                if let Ok(mut stream) = respond.send_response(response, false) {
                    let _ = stream.send_data(body, true);
                }
            }
            Responder::Http1(reply) => {
                let _ = reply.send(response.body(full(body)).expect("static error response"));
            }
        }
    }
}
