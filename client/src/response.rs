//! [`Response`]: a complete response, and reading one off an `h2` stream.

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use http::{HeaderMap, StatusCode};

use crate::Error;

/// A complete response: status, headers and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The headers (trailers, if any, are appended).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body (a cheap, reference-counted copy).
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|e| Error::NotText { reason: e.to_string() })
    }

    /// The body decoded from JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Json { reason: e.to_string() })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `Ok(self)` for a 2xx status, else [`Error::Status`] naming `request`
    /// (e.g. `GET /path`).
    pub fn error_for_status(self, request: &str) -> Result<Response, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(Error::Status {
                request: request.to_owned(),
                status: self.status,
            })
        }
    }
}

/// Reads a whole body, returning flow-control capacity as it goes.
pub(crate) async fn read_body(response: http::Response<RecvStream>, during: &str) -> Result<Response, Error> {
    let (parts, mut stream) = response.into_parts();
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.map_err(|e| Error::from_h2(e, during))?;
        append_chunk(&mut stream, &mut body, &chunk);
    }
    finish(parts, stream, body, during).await
}

/// Appends a received chunk and releases its flow-control capacity.
pub(crate) fn append_chunk(stream: &mut RecvStream, body: &mut BytesMut, chunk: &Bytes) {
    body.extend_from_slice(chunk);
    // Fails only if the stream is already gone; the next read reports that.
    let _ = stream.flow_control().release_capacity(chunk.len());
}

/// Reads the trailers (if any) once the data has ended.
pub(crate) async fn finish(
    parts: http::response::Parts,
    mut stream: RecvStream,
    body: BytesMut,
    during: &str,
) -> Result<Response, Error> {
    let mut headers = parts.headers;
    if let Some(trailers) = stream.trailers().await.map_err(|e| Error::from_h2(e, during))? {
        for (name, value) in &trailers {
            headers.append(name, value.clone());
        }
    }
    Ok(Response {
        status: parts.status,
        headers,
        body: body.freeze(),
    })
}
