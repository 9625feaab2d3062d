//! [`Request`]: what [`Client::submit`](crate::Client::submit) sends.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use crate::Error;

/// A request to submit: method, path, headers and body.
///
/// The scheme and authority come from the [`Client`](crate::Client)'s URL;
/// the request carries only the path (with its query, if any).
///
/// Header names and values are checked when they are added; the first
/// invalid one is reported by [`Client::submit`](crate::Client::submit) as
/// [`Error::InvalidRequest`].
///
/// ```
/// use push_client::Request;
///
/// let request = Request::get("/http2Service").header("accept", "application/json");
/// assert_eq!(request.path(), "/http2Service");
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    invalid: Option<String>,
}

impl Request {
    /// A request with `method` for `path` (e.g. `/items?page=2`), no headers
    /// and an empty body.
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            invalid: None,
        }
    }

    /// A `GET` for `path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path)
    }

    /// A `POST` of `body` to `path`.
    pub fn post(path: impl Into<String>, body: impl Into<Bytes>) -> Request {
        Request::new(Method::POST, path).body(body)
    }

    /// Adds a header (keeping earlier values of the same name).
    pub fn header<K, V>(mut self, name: K, value: V) -> Request
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = match HeaderName::try_from(name) {
            Ok(name) => name,
            Err(e) => return self.invalid(format!("bad header name: {}", e.into())),
        };
        match HeaderValue::try_from(value) {
            Ok(value) => {
                self.headers.append(name, value);
                self
            }
            Err(e) => self.invalid(format!("bad value for header `{name}`: {}", e.into())),
        }
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON and `content-type` to
    /// `application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Request {
        match serde_json::to_vec(value) {
            Ok(json) => {
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                self.body(json)
            }
            Err(e) => self.invalid(format!("body cannot be encoded as JSON: {e}")),
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, with its query if any.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    fn invalid(mut self, reason: String) -> Request {
        self.invalid.get_or_insert(reason);
        self
    }

    /// Splits into the parts to send, or the first problem found.
    pub(crate) fn into_parts(self) -> Result<(Method, String, HeaderMap, Bytes), Error> {
        if let Some(reason) = self.invalid {
            return Err(Error::InvalidRequest { reason });
        }
        let path_ok = self.path.starts_with('/') && self.path.parse::<http::uri::PathAndQuery>().is_ok();
        if !path_ok {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "bad path `{}`: it must start with `/` and contain only URL characters",
                    self.path
                ),
            });
        }
        Ok((self.method, self.path, self.headers, self.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_the_first_problem() {
        let err = Request::get("/")
            .header("bad name", "x")
            .header("ok", "bad\nvalue")
            .into_parts()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest { reason } if reason.starts_with("bad header name")),
            "{err}"
        );
        let err = Request::get("relative").into_parts().unwrap_err();
        assert!(err.to_string().contains("must start with `/`"), "{err}");
        let (method, path, headers, body) = Request::new(Method::PUT, "/x?y=1")
            .json(&serde_json::json!({"a": 1}))
            .into_parts()
            .unwrap();
        assert_eq!((method, path.as_str()), (Method::PUT, "/x?y=1"));
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(&body[..], br#"{"a":1}"#);
    }
}
