//! Bodies both ways: a streamed response with trailers (and, on request,
//! zero-length writes between its chunks), and a request body counted as
//! it arrives.

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::wit_future;

use crate::{number, streamed, text};

/// `chunks` chunks of `size` bytes (`a`, `b`, ...), each after `empty`
/// zero-length writes, then trailers `x-chunks` and `x-bytes`.
pub fn stream(query: &str) -> Response {
    let chunks = number(query, "chunks", 3);
    let size = number(query, "size", 10);
    let empty = number(query, "empty", 0);
    let (response, mut body, trailers) = streamed(200);
    wasip3::wit_bindgen::spawn(async move {
        let mut sent = 0;
        for i in 0..chunks {
            for _ in 0..empty {
                let (_, _) = body.write(Vec::new()).await;
            }
            let chunk = vec![b'a' + (i % 26) as u8; size];
            if !body.write_all(chunk).await.is_empty() {
                eprintln!("stream: the reader went away after {sent} bytes");
                return;
            }
            sent += size;
        }
        drop(body);
        let fields = Fields::new();
        fields.append("x-chunks", chunks.to_string().as_bytes()).ok();
        fields.append("x-bytes", sent.to_string().as_bytes()).ok();
        let _ = trailers.write(Ok(Some(fields))).await;
        eprintln!(
            "stream: {chunks} chunks, {sent} bytes and {} empty writes sent",
            chunks * empty
        );
    });
    response
}

/// Reads the request body as it arrives: `METHOD /echo body=N trailers=T`.
pub async fn echo(request: Request) -> Response {
    let method = match request.get_method() {
        wasip3::http::types::Method::Get => "GET".to_string(),
        wasip3::http::types::Method::Post => "POST".to_string(),
        wasip3::http::types::Method::Put => "PUT".to_string(),
        other => format!("{other:?}"),
    };
    let (_result_tx, result_rx) = wit_future::new(|| Ok(()));
    let (mut body, trailers) = Request::consume_body(request, result_rx);
    let mut total = 0usize;
    loop {
        let (status, chunk) = body.read(Vec::with_capacity(16 * 1024)).await;
        total += chunk.len();
        if !matches!(status, wasip3::wit_bindgen::StreamResult::Complete(_)) {
            break;
        }
    }
    let trailers = match trailers.await {
        Ok(Some(t)) => t.copy_all().len(),
        Ok(None) => 0,
        Err(e) => return text(500, &format!("request body failed: {e:?}\n")),
    };
    let _: Option<ErrorCode> = None;
    text(200, &format!("{method} /echo body={total} trailers={trailers}\n"))
}
