//! Checks on one message a guest asks the host to send, done before
//! anything reaches `h2`, so a bad call becomes `error::invalid` instead of
//! a broken stream. Each returns the message as `http` types, or why not.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, StatusCode, Uri};

/// Header names that are connection-specific and forbidden in HTTP/2 (RFC 9113 §8.2.2).
const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// Converts guest header fields into a `HeaderMap`, checking each one.
pub fn headers(fields: &[(String, Vec<u8>)]) -> Result<HeaderMap, String> {
    headers_with_room(fields, 0)
}

/// [`headers`], with room for `extra` more fields.
fn headers_with_room(fields: &[(String, Vec<u8>)], extra: usize) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::with_capacity(fields.len() + extra);
    for (name, value) in fields {
        if name.starts_with(':') {
            return Err(format!("pseudo-header {name:?} is set by the host"));
        }
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("header name {name:?} must be non-empty lowercase"));
        }
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
        if CONNECTION_SPECIFIC.contains(&name.as_str()) {
            return Err(format!("connection-specific header {name:?} is not allowed in HTTP/2"));
        }
        if name == "te" && value.as_slice() != b"trailers" {
            return Err("header \"te\" may only be \"trailers\" in HTTP/2".into());
        }
        if value.first().is_some_and(|b| *b == b' ' || *b == b'\t')
            || value.last().is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            return Err(format!("value of header {name:?} has leading or trailing whitespace"));
        }
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| format!("value of header {name:?} contains a control character"))?;
        map.append(header, value);
    }
    Ok(map)
}

/// Whether `value` is a content-length (1*DIGIT) of `len`.
fn is_length(value: &[u8], len: usize) -> bool {
    !value.is_empty()
        && value.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(value).ok().and_then(|s| s.parse::<usize>().ok()) == Some(len)
}

/// Builds the head of a response (main or pushed): status 200–599, valid
/// headers, and a `content-length` that matches the body (added if absent).
pub fn response(status: u16, fields: &[(String, Vec<u8>)], body_len: usize) -> Result<http::Response<()>, String> {
    if !(200..=599).contains(&status) {
        return Err(format!("status {status} is outside 200-599"));
    }
    let status = StatusCode::from_u16(status).map_err(|_| format!("invalid status {status}"))?;
    let mut headers = headers_with_room(fields, 1)?;
    let mut lengths = headers.get_all(http::header::CONTENT_LENGTH).iter();
    match (lengths.next(), lengths.next()) {
        (Some(_), Some(_)) => return Err("more than one content-length".into()),
        // Digits only (RFC 9110 section 8.6): `+5` parses as a number but
        // is not a valid content-length.
        (Some(v), None) if !is_length(v.as_bytes(), body_len) => {
            return Err(format!(
                "content-length {v:?} does not match the body's {body_len} bytes"
            ));
        }
        (Some(_), None) => {}
        (None, _) => {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body_len));
        }
    }
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The parent request's origin, parsed once for all of its promises.
#[derive(Clone, Debug)]
pub struct Origin {
    scheme: Scheme,
    /// The authority, or why there is none to promise on.
    authority: Result<Authority, String>,
}

impl Origin {
    /// `scheme` (`http` or `https`) and the request's authority (may be empty).
    pub fn new(scheme: &str, authority: &str) -> Origin {
        let scheme = match scheme {
            "https" => Scheme::HTTPS,
            _ => Scheme::HTTP,
        };
        let authority = if authority.is_empty() {
            Err("the request has no :authority or host, so nothing can be promised".to_string())
        } else {
            Authority::from_maybe_shared(Bytes::copy_from_slice(authority.as_bytes()))
                .map_err(|e| format!("invalid authority {authority:?}: {e}"))
        };
        Origin { scheme, authority }
    }
}

/// Builds a promised request on the parent request's own origin.
pub fn promise(
    origin: &Origin,
    method: &str,
    path: &str,
    fields: &[(String, Vec<u8>)],
) -> Result<http::Request<()>, String> {
    let method = match method {
        "GET" => Method::GET,
        "HEAD" => Method::HEAD,
        other => return Err(format!("method {other:?} cannot be promised (only GET or HEAD)")),
    };
    if !path.starts_with('/') {
        return Err(format!("promised path {path:?} must start with '/'"));
    }
    let authority = origin.authority.clone()?;
    let path_and_query = PathAndQuery::from_maybe_shared(Bytes::copy_from_slice(path.as_bytes()))
        .map_err(|e| format!("invalid promised path {path:?}: {e}"))?;
    // A fragment is cut off by the parser: the path must come through whole.
    if path_and_query.as_str() != path {
        return Err(format!("invalid promised path {path:?}"));
    }
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(origin.scheme.clone());
    parts.authority = Some(authority);
    parts.path_and_query = Some(path_and_query);
    let uri = Uri::from_parts(parts).map_err(|e| format!("invalid promised path {path:?}: {e}"))?;
    let headers = headers(fields)?;
    if headers.contains_key(http::header::CONTENT_LENGTH) {
        return Err("a promised request has no body, so no content-length".into());
    }
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// The request's `:authority`, or its `host` header.
pub fn authority_of(parts: &http::request::Parts) -> Option<String> {
    parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| parts.headers.get(http::header::HOST)?.to_str().ok().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &[u8]) -> Vec<(String, Vec<u8>)> {
        vec![(name.to_string(), value.to_vec())]
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(headers(&h("Bad Name", b"x")).is_err());
        assert!(headers(&h("X-Upper", b"x")).is_err());
        assert!(headers(&h("x-ok", b"a\nb")).is_err());
        assert!(headers(&h("connection", b"close")).is_err());
        assert!(headers(&h("te", b"gzip")).is_err());
        assert!(headers(&h(":path", b"/")).is_err());
        assert!(headers(&h("x-ok", b" padded")).is_err());
        assert!(headers(&h("te", b"trailers")).is_ok());
        assert!(headers(&h("x-ok", b"fine value")).is_ok());
    }

    #[test]
    fn response_status_and_length() {
        assert!(response(99, &[], 0).is_err());
        assert!(response(600, &[], 0).is_err());
        assert!(response(101, &[], 0).is_err());
        let r = response(200, &[], 5).unwrap();
        assert_eq!(r.headers()["content-length"], "5");
        assert!(response(200, &h("content-length", b"4"), 5).is_err());
        assert!(response(204, &h("content-length", b"0"), 0).is_ok());
        // Found by the `validate` fuzz target: a sign, or a second length.
        assert!(response(200, &h("content-length", b"+5"), 5).is_err());
        let two = [
            ("content-length".to_string(), b"5".to_vec()),
            ("content-length".to_string(), b"6".to_vec()),
        ];
        assert!(response(200, &two, 5).is_err());
    }

    #[test]
    fn promise_rules() {
        let a = Origin::new("http", "a:1");
        assert!(promise(&a, "POST", "/x", &[]).is_err());
        assert!(promise(&a, "GET", "x", &[]).is_err());
        assert!(promise(&Origin::new("http", ""), "GET", "/x", &[]).is_err());
        assert!(promise(&Origin::new("http", "a b"), "GET", "/x", &[]).is_err());
        assert!(promise(&a, "GET", "/x", &h("content-length", b"0")).is_err());
        assert!(promise(&a, "GET", "/x#frag", &[]).is_err());
        assert!(promise(&a, "GET", "/x y", &[]).is_err());
        let r = promise(&a, "HEAD", "/x?y=1", &[]).unwrap();
        assert_eq!(r.uri().to_string(), "http://a:1/x?y=1");
        assert_eq!(r.method(), Method::HEAD);
        let r = promise(&Origin::new("https", "example.com"), "GET", "/", &[]).unwrap();
        assert_eq!(r.uri().to_string(), "https://example.com/");
    }
}
