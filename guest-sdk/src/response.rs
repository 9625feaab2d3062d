//! [`Response`]: what a handler sends, as the main response or as a push.

use serde::Serialize;

use crate::__private::bindings::push::handler::types::Response as RawResponse;
use crate::headers::{self, Header};

/// An HTTP/2 response: status, header fields and a buffered body.
///
/// Sent with [`Caller::respond`](crate::Caller::respond) (the main response) or
/// [`Caller::push`](crate::Caller::push) (a promised resource). The SDK only
/// lowercases header names; the host validates the status and the header
/// fields and answers [`Error::Invalid`](crate::Error::Invalid) if something is
/// malformed (nothing is sent then, so the handler may try again).
///
/// ```
/// use push_guest::Response;
///
/// let res = Response::text("not found\n")
///     .with_status(404)
///     .with_header("Cache-Control", "no-store");
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.header("cache-control"), Some(&b"no-store"[..]));
/// assert_eq!(res.header("content-type"), Some(&b"text/plain; charset=utf-8"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<Header>,
    body: Vec<u8>,
}

impl Response {
    /// A response with `status`, no header fields and an empty body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `200` response with `value` serialized as JSON and
    /// `content-type: application/json`.
    ///
    /// If `value` cannot be serialized (for example a map with non-string
    /// keys), this returns a `500` `text/plain` response that says why; use
    /// [`Response::try_json`] to handle that case yourself.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::try_json(value).unwrap_or_else(|err| {
            Response::text(format!("failed to serialize the JSON response: {err}\n")).with_status(500)
        })
    }

    /// Like [`Response::json`], but returns the serialization error.
    pub fn try_json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        Ok(Response::new(200).with_content_type("application/json").with_body(body))
    }

    /// A `200` response with a UTF-8 text body and
    /// `content-type: text/plain; charset=utf-8`.
    pub fn text(text: impl Into<String>) -> Self {
        Response::new(200)
            .with_content_type("text/plain; charset=utf-8")
            .with_body(text.into())
    }

    /// A `200` response with a binary body and
    /// `content-type: application/octet-stream`.
    pub fn bytes(body: impl Into<Vec<u8>>) -> Self {
        Response::new(200)
            .with_content_type("application/octet-stream")
            .with_body(body)
    }

    /// Replaces the status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Appends a header field; the name is lowercased. Earlier fields with the
    /// same name are kept (use [`Response::with_content_type`] to replace the
    /// content type).
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(headers::field(name.as_ref(), value));
        self
    }

    /// Sets `content-type`, replacing any earlier one.
    pub fn with_content_type(mut self, content_type: impl Into<Vec<u8>>) -> Self {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self.headers.push(headers::field("content-type", content_type));
        self
    }

    /// Replaces the body (the content type is left as it is).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Every header field, in order: lowercase names, raw values.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the header `name` (ignoring case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        headers::find(&self.headers, name)
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body, consuming the response.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    pub(crate) fn into_raw(self) -> RawResponse {
        RawResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn constructors_set_content_type_and_body() {
        let json = Response::json(&serde_json::json!({"push": {"name": "resource1"}}));
        assert_eq!(json.status(), 200);
        assert_eq!(json.header("content-type"), Some(&b"application/json"[..]));
        assert_eq!(json.body(), br#"{"push":{"name":"resource1"}}"#);

        let bytes = Response::bytes(vec![1, 2, 3]);
        assert_eq!(bytes.header("content-type"), Some(&b"application/octet-stream"[..]));
        assert_eq!(bytes.into_body(), [1, 2, 3]);

        let empty = Response::new(204);
        assert!(empty.headers().is_empty() && empty.body().is_empty());
    }

    #[test]
    fn json_failure_becomes_500() {
        let mut bad = BTreeMap::new();
        bad.insert((1, 2), 3);
        assert!(Response::try_json(&bad).is_err());
        let res = Response::json(&bad);
        assert_eq!(res.status(), 500);
        assert!(res.body().starts_with(b"failed to serialize"));
    }

    #[test]
    fn builders() {
        let res = Response::text("x")
            .with_header("X-Multi", "a")
            .with_header("x-multi", b"b")
            .with_content_type("text/html")
            .with_status(201);
        assert_eq!(res.status(), 201);
        let names: Vec<&str> = res.headers().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-multi", "x-multi", "content-type"]);
        assert_eq!(res.header("content-type"), Some(&b"text/html"[..]));
        let raw = res.into_raw();
        assert_eq!(raw.status, 201);
        assert_eq!(raw.body, b"x");
    }
}
