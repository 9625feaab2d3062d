//! [`Request`]: the request a handler is called with.

use serde::de::DeserializeOwned;

use crate::__private::bindings::push::handler::types::Request as RawRequest;
use crate::headers::{self, Header};

/// An incoming HTTP/2 request, fully buffered (headers and body).
///
/// The host hands every request to [`Handler::handle`](crate::Handler::handle)
/// as one of these. Header names are lowercase; lookups by name ignore case.
///
/// [`Request::new`] and the `with_*` builders exist so that routing and parsing
/// code can be unit-tested natively without a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    scheme: String,
    authority: String,
    path: String,
    headers: Vec<Header>,
    body: Vec<u8>,
}

impl Request {
    /// A request with the given method and path (with optional `?query`),
    /// scheme `http`, an empty authority, no headers and an empty body.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            scheme: "http".to_owned(),
            authority: String::new(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Replaces the scheme (`http` or `https`).
    pub fn with_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.scheme = scheme.into();
        self
    }

    /// Replaces the authority (`host[:port]`).
    pub fn with_authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = authority.into();
        self
    }

    /// Appends a header field; the name is lowercased.
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(headers::field(name.as_ref(), value));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub(crate) fn from_raw(raw: RawRequest) -> Self {
        Request {
            method: raw.method,
            scheme: raw.scheme,
            authority: raw.authority,
            path: raw.path,
            headers: raw.headers,
            body: raw.body,
        }
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The scheme (`:scheme`), e.g. `http`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The authority (`:authority`, or the `host` header), e.g. `localhost:7090`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path and query as received (`:path`), e.g. `/spin-ms?ms=5`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path without the query string, e.g. `/spin-ms`.
    pub fn path_only(&self) -> &str {
        match self.path.split_once('?') {
            Some((path, _)) => path,
            None => &self.path,
        }
    }

    /// The query string without the `?`, if the path has one, e.g. `ms=5`.
    pub fn query(&self) -> Option<&str> {
        self.path.split_once('?').map(|(_, query)| query)
    }

    /// The value of the first `name=value` pair in the query string whose name
    /// is exactly `name` (a pair without `=` has the value `""`). Values are
    /// returned raw: no percent-decoding and no `+` to space.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query()?
            .split('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    /// Every header field, in the order received: lowercase names, raw values.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the header `name` (ignoring case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        headers::find(&self.headers, name)
    }

    /// The first value of the header `name` (ignoring case), if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Every value of the header `name` (ignoring case), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        headers::find_all(&self.headers, name)
    }

    /// The request body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the request body, consuming the request.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_query_and_params() {
        let req = Request::new("GET", "/spin-ms?ms=5&flag&x=a%20b");
        assert_eq!(req.path(), "/spin-ms?ms=5&flag&x=a%20b");
        assert_eq!(req.path_only(), "/spin-ms");
        assert_eq!(req.query(), Some("ms=5&flag&x=a%20b"));
        assert_eq!(req.query_param("ms"), Some("5"));
        assert_eq!(req.query_param("flag"), Some(""));
        assert_eq!(req.query_param("x"), Some("a%20b"));
        assert_eq!(req.query_param("m"), None);

        let plain = Request::new("GET", "/hello");
        assert_eq!(plain.path_only(), "/hello");
        assert_eq!(plain.query(), None);
        assert_eq!(plain.query_param("ms"), None);
    }

    #[test]
    fn headers_and_body() {
        let req = Request::new("POST", "/echo")
            .with_authority("localhost")
            .with_header("Content-Type", "application/json")
            .with_header("x-bin", vec![0xff])
            .with_body(r#"{"a":1}"#);
        assert_eq!(req.method(), "POST");
        assert_eq!(req.scheme(), "http");
        assert_eq!(req.authority(), "localhost");
        assert_eq!(req.headers()[0].0, "content-type");
        assert_eq!(req.header("CONTENT-TYPE"), Some(&b"application/json"[..]));
        assert_eq!(req.header_str("content-type"), Some("application/json"));
        assert_eq!(req.header("x-bin"), Some(&[0xff][..]));
        assert_eq!(req.header_str("x-bin"), None);
        assert_eq!(req.text(), Ok(r#"{"a":1}"#));
        let value: serde_json::Value = req.json().unwrap();
        assert_eq!(value["a"], 1);
        assert_eq!(req.into_body(), br#"{"a":1}"#);
    }
}
