//! The `link: <...>; rel=preload` parser
//! (`push_host::runtime::wasi_http::preload::targets`) never panics on any
//! header values, scheme, authority and request path; it returns no target
//! twice; and every `Preload::Local` path starts with `/` and passes the check
//! the host makes before promising it (`validate::promise` with GET, no
//! headers, on the request's origin, as `deliver_main` in
//! `runtime/wasi_http/p2/proxy.rs` does), unless longer than `http` allows.
//!
//! Input, one item per line: scheme, authority, request path, then one
//! `link` header value per line.

#![no_main]

use http::HeaderValue;
use http::header::{HeaderMap, LINK};
use libfuzzer_sys::fuzz_target;
use push_host::http2::validate::{self, Origin};
use push_host::runtime::wasi_http::preload::{self, Preload};

/// The longest path and query `http` parses (its `MAX_LEN`).
const HTTP_MAX_LEN: usize = 65_534;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|b| *b == b'\n');
    let mut next = || String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let (scheme, authority, path) = (next(), next(), next());
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(LINK, value);
        }
    }

    let targets = preload::targets(&headers, &scheme, &authority, &path);
    for (i, target) in targets.iter().enumerate() {
        assert!(!targets[..i].contains(target), "{target:?} twice");
    }
    // The request's origin, if `http` takes its authority (a request's
    // always is); else one that it takes, so that only the path is judged.
    let mut origin = Origin::new(&scheme, &authority);
    if validate::promise(&origin, "GET", "/", &[]).is_err() {
        origin = Origin::new("https", "example.com");
    }
    for target in &targets {
        if let Preload::Local(local) = target {
            assert!(local.starts_with('/'), "{local:?}");
            if local.len() <= HTTP_MAX_LEN
                && let Err(e) = validate::promise(&origin, "GET", local, &[])
            {
                panic!("preload path {local:?} cannot be promised: {e}");
            }
        }
    }
});
