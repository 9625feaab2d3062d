//! The seed scenario seen by `nghttp` (Debian `nghttp2-client`).

mod support;

use support::nghttp::nghttp;
use support::{Host, guest};

#[test]
fn nghttp_sees_three_push_promises_before_the_body_and_all_four_bodies() {
    let host = Host::start(&guest("http2_service"), &[]);
    let url = format!("{}/http2Service", host.url());

    let verbose = nghttp(&["-nv", &url]);
    let lines: Vec<&str> = verbose.lines().collect();
    let position = |needle: &str| lines.iter().position(|l| l.contains(needle));
    // nghttp prints a frame's decoded header fields before the frame's own line.
    let first_promise = position("recv PUSH_PROMISE frame").unwrap_or_else(|| panic!("no PUSH_PROMISE: {verbose}"));
    let main = lines[first_promise]
        .rsplit("stream_id=")
        .next()
        .and_then(|s| s.trim_end_matches('>').parse::<u32>().ok())
        .expect("parent stream id");
    let field = |name: &str| -> Vec<(usize, String)> {
        let prefix = format!("recv (stream_id={main}) {name}: ");
        lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.split_once(&prefix).map(|(_, v)| (i, v.to_string())))
            .collect()
    };
    let paths: Vec<String> = field(":path").into_iter().map(|(_, v)| v).collect();
    assert_eq!(paths, ["/resource1", "/resource2", "/resource3"], "{verbose}");
    let authorities = field(":authority");
    assert_eq!(authorities.len(), 3, "{verbose}");
    assert!(
        authorities.iter().all(|(_, a)| *a == host.addr.to_string()),
        "{verbose}"
    );
    let promises: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].contains("recv PUSH_PROMISE frame"))
        .collect();
    assert_eq!(promises.len(), 3, "{verbose}");
    let main_data = position(&format!("recv DATA frame <length=37, flags=0x01, stream_id={main}>"))
        .unwrap_or_else(|| panic!("main body frame: {verbose}"));
    assert!(
        promises.iter().all(|p| *p < main_data),
        "promises precede the body: {verbose}"
    );
    // Order on the wire: every PUSH_PROMISE frame before the response's HEADERS.
    let response_headers = position(&format!("recv (stream_id={main}) :status: "))
        .unwrap_or_else(|| panic!("main response headers: {verbose}"));
    assert!(
        promises.iter().all(|p| *p < response_headers),
        "every PUSH_PROMISE precedes the response HEADERS: {verbose}"
    );
    for stream in [2, 4, 6] {
        assert!(
            position(&format!("recv DATA frame <length=29, flags=0x01, stream_id={stream}>")).is_some(),
            "pushed stream {stream} delivered and ended: {verbose}"
        );
    }
    assert!(!verbose.contains("recv GOAWAY"), "{verbose}");
    assert!(!verbose.contains("recv RST_STREAM"), "{verbose}");

    // Without -n nghttp prints every body it receives: the response and the pushes.
    let bodies = nghttp(&[&url]);
    assert!(bodies.contains(r#"{"response":{"name":"main resource"}}"#), "{bodies}");
    for n in 1..=3 {
        assert!(
            bodies.contains(&format!(r#"{{"push":{{"name":"resource{n}"}}}}"#)),
            "{bodies}"
        );
    }
}
