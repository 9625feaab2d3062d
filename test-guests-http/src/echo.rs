//! `/echo`: the request as the component saw it: `method`, `scheme`,
//! `authority`, `path`, each header as `h name: value`, then the body.

use std::io::Read as _;

use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam, Scheme};

use crate::respond;

pub fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let method = match request.method() {
        Method::Get => "GET".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Head => "HEAD".to_string(),
        Method::Other(m) => m,
        other => format!("{other:?}"),
    };
    let scheme = match request.scheme() {
        Some(Scheme::Http) => "http".to_string(),
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(s)) => s,
        None => "-".to_string(),
    };
    let mut text = format!(
        "method {method}\nscheme {scheme}\nauthority {}\npath {}\n",
        request.authority().unwrap_or_default(),
        request.path_with_query().unwrap_or_default()
    );
    for (name, value) in request.headers().entries() {
        text.push_str(&format!("h {name}: {}\n", String::from_utf8_lossy(&value)));
    }
    let body = request.consume().expect("body taken once");
    let mut stream = body.stream().expect("stream taken once");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    text.push_str(&format!("body {}\n", String::from_utf8_lossy(&bytes)));
    respond(out, 200, &[("content-type", "text/plain")], text.as_bytes());
}
