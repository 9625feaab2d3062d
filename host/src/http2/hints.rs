//! `103 Early Hints` (RFC 8297) for clients that disable push: the paths a
//! handler promised before responding are announced in one 103 response,
//! each as `link: </path>; rel=preload`, and the final response carries the
//! same `link` headers (as h2o and Apache do).

use bytes::Bytes;
use h2::server::SendResponse;
use http::{HeaderValue, StatusCode};

/// The `link` header value announcing `path` (a path the host validated:
/// it has no `<`, `>` or control characters).
pub fn link(path: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("<{path}>; rel=preload")).ok()
}

/// Sends the 103 for `paths` on `send` and adds their `link` headers to the
/// final response `head`. A 103 that cannot be sent is logged; the final
/// response still carries the links.
pub fn send(send: &mut SendResponse<Bytes>, head: &mut http::Response<()>, paths: &[String], tag: &str) {
    let links: Vec<HeaderValue> = paths.iter().filter_map(|p| link(p)).collect();
    let mut early = http::Response::new(());
    *early.status_mut() = StatusCode::EARLY_HINTS;
    for value in &links {
        early.headers_mut().append(http::header::LINK, value.clone());
    }
    match send.send_informational(early) {
        Ok(()) => tracing::info!("{tag}: 103 Early Hints sent: {}", paths.join(", ")),
        Err(e) => tracing::info!("{tag}: 103 Early Hints not sent: {e}"),
    }
    for value in links {
        head.headers_mut().append(http::header::LINK, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_the_path_as_a_preload() {
        assert_eq!(link("/a.css?v=1").unwrap(), "</a.css?v=1>; rel=preload");
    }
}
