//! The checks on what a guest asks the host to send
//! (`push_host::http2::validate`: `headers`, `response`, `Origin::new`,
//! `promise`, `authority_of`) never panic, and what they accept is what
//! `h2` can send and a client will take:
//! - accepted header fields all come through, lowercase, none pseudo or
//!   connection-specific;
//! - an accepted response has status 200-599 and every `content-length` it
//!   carries is digits only and equal to the body's length;
//! - an accepted promise is GET or HEAD, without `content-length`, its URI's
//!   scheme, authority and path exactly those given, the path starting with
//!   `/`, authority and path representable as header values (`h2` sends them
//!   as `:authority` and `:path`).
//!
//! Input, one item per line: `STATUS BODY_LEN`, scheme, authority, method,
//! path (also tried as a request URI for `authority_of`, with the authority
//! as its `host`), then header fields `name: value`.

#![no_main]

use http::HeaderValue;
use http::header::{CONTENT_LENGTH, HOST};
use libfuzzer_sys::fuzz_target;
use push_host::http2::validate::{self, Origin};

const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|b| *b == b'\n');
    let mut next = || String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let (head, scheme, authority, method, path) = (next(), next(), next(), next(), next());
    let fields: Vec<(String, Vec<u8>)> = lines
        .map(|line| match line.windows(2).position(|w| w == b": ") {
            Some(i) => (String::from_utf8_lossy(&line[..i]).into_owned(), line[i + 2..].to_vec()),
            None => (String::from_utf8_lossy(line).into_owned(), Vec::new()),
        })
        .collect();
    let mut head = head.split_ascii_whitespace();
    let status = head.next().and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
    let body_len = head.next().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);

    let headers = validate::headers(&fields);
    if let Ok(map) = &headers {
        assert_eq!(map.len(), fields.len(), "every field comes through");
        for (name, value) in &fields {
            assert!(!name.is_empty() && !name.starts_with(':') && !name.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(!CONNECTION_SPECIFIC.contains(&name.as_str()), "{name:?}");
            assert!(
                map.get_all(name.as_str())
                    .iter()
                    .any(|v| v.as_bytes() == value.as_slice())
            );
        }
    }

    if let Ok(response) = validate::response(status, &fields, body_len) {
        assert!(headers.is_ok());
        assert!((200..=599).contains(&status) && response.status().as_u16() == status);
        let lengths = response.headers().get_all(CONTENT_LENGTH);
        assert!(lengths.iter().next().is_some(), "content-length is set");
        for v in lengths {
            let digits = !v.is_empty() && v.as_bytes().iter().all(u8::is_ascii_digit);
            let value = v.to_str().ok().and_then(|s| s.parse::<usize>().ok());
            assert!(
                digits && value == Some(body_len),
                "content-length {v:?} for a body of {body_len}"
            );
        }
    }

    let origin = Origin::new(&scheme, &authority);
    if let Ok(request) = validate::promise(&origin, &method, &path, &fields) {
        assert!(headers.is_ok() && matches!(method.as_str(), "GET" | "HEAD"));
        assert_eq!(request.method().as_str(), method);
        assert!(!request.headers().contains_key(CONTENT_LENGTH));
        assert!(path.starts_with('/'));
        let uri = request.uri();
        assert_eq!(uri.scheme_str(), Some(if scheme == "https" { "https" } else { "http" }));
        assert_eq!(uri.authority().map(|a| a.as_str()), Some(authority.as_str()));
        assert_eq!(uri.path_and_query().map(|p| p.as_str()), Some(path.as_str()));
        assert!(
            HeaderValue::from_bytes(authority.as_bytes()).is_ok() && HeaderValue::from_bytes(path.as_bytes()).is_ok()
        );
    }

    let mut request = http::Request::new(());
    if let Ok(uri) = path.parse::<http::Uri>() {
        *request.uri_mut() = uri;
    }
    if let Ok(host) = HeaderValue::from_bytes(authority.as_bytes()) {
        request.headers_mut().insert(HOST, host);
    }
    let (parts, ()) = request.into_parts();
    let expected = match parts.uri.authority() {
        Some(a) => Some(a.as_str()),
        None => parts.headers.get(HOST).and_then(|h| h.to_str().ok()),
    };
    assert_eq!(validate::authority_of(&parts).as_deref(), expected);
});
