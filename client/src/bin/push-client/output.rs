//! How the CLI prints events: the seed's text lines, or one JSON object per
//! line with `--json`.

use std::io::Write;

use push_client::http::HeaderMap;
use push_client::{Error, PushPromise, RefusedPromise, Response};
use serde_json::{Map, Value, json};

/// The output mode.
pub enum Output {
    Text,
    Json,
}

impl Output {
    pub fn new(json: bool) -> Output {
        if json { Output::Json } else { Output::Text }
    }

    fn emit(&self, text: impl FnOnce() -> String, event: impl FnOnce() -> Value) {
        let line = match self {
            Output::Text => text(),
            Output::Json => event().to_string(),
        };
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not worth failing over.
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }

    pub fn promise(&self, p: &PushPromise) {
        self.emit(
            || format!("Received a promise for {}", p.path()),
            || {
                json!({
                    "event": "promise",
                    "stream_id": p.stream_id(),
                    "method": p.method().as_str(),
                    "path": p.path(),
                    "authority": p.authority(),
                })
            },
        );
    }

    pub fn rejected(&self, p: &PushPromise) {
        self.emit(
            || format!("Push promise for {} rejected", p.path()),
            || json!({"event": "rejected", "stream_id": p.stream_id(), "path": p.path()}),
        );
    }

    pub fn refused(&self, r: &RefusedPromise) {
        let what = match (&r.method, &r.uri) {
            (Some(m), Some(u)) => format!("{m} {u}"),
            _ => format!("stream {}", r.stream_id),
        };
        // The RST_STREAM code that went out on the wire, e.g. PROTOCOL_ERROR.
        let reason = r.reason().map(|code| format!("{code:?}"));
        self.emit(
            || {
                let label = reason.as_deref().unwrap_or("no reset sent");
                format!("Push promise for {what} refused ({label}): {}", r.refusal)
            },
            || {
                json!({
                    "event": "refused",
                    "stream_id": r.stream_id,
                    "method": r.method.as_ref().map(|m| m.as_str()),
                    "uri": r.uri.as_ref().map(|u| u.to_string()),
                    "reason": reason,
                    "message": r.refusal.to_string(),
                })
            },
        );
    }

    pub fn response(&self, r: &Response) {
        self.emit(
            || format!("Response : {}", display_body(&r.body)),
            || response_event(json!({"event": "response"}), r),
        );
    }

    pub fn promised(&self, stream_id: u32, path: &str, r: &Response) {
        self.emit(
            || format!("Promised resource : {}", display_body(&r.body)),
            || {
                let event = json!({"event": "promised_response", "stream_id": stream_id, "path": path});
                response_event(event, r)
            },
        );
    }

    /// A pushed response the server reset: reported, not fatal.
    pub fn push_failed(&self, stream_id: u32, path: &str, e: &Error) {
        match self {
            Output::Text => eprintln!("push-client: warning: {e}"),
            Output::Json => self.emit(
                String::new,
                || json!({"event": "promised_error", "stream_id": stream_id, "path": path, "error": e.to_string()}),
            ),
        }
    }

    /// The one line on stderr for a failed run (and an event with `--json`).
    pub fn error(&self, message: &str) {
        if let Output::Json = self {
            self.emit(String::new, || json!({"event": "error", "error": message}));
        }
        eprintln!("push-client: error: {message}");
    }
}

fn response_event(mut event: Value, r: &Response) -> Value {
    let fields = event.as_object_mut().expect("an object");
    fields.insert("status".into(), r.status.as_u16().into());
    fields.insert("headers".into(), headers_json(&r.headers));
    fields.insert("length".into(), r.body.len().into());
    let text = std::str::from_utf8(&r.body).ok();
    fields.insert("body".into(), text.into());
    if let Ok(value) = serde_json::from_slice::<Value>(&r.body) {
        fields.insert("json".into(), value);
    }
    event
}

/// Header name -> value; repeated names joined with ", ".
fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        map.insert(name.as_str().to_owned(), values.join(", ").into());
    }
    Value::Object(map)
}

/// A body as the seed prints it: JSON compacted (key order kept), other
/// text as is without its final newline, binary as a byte count.
fn display_body(body: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(body) else {
        return format!("<{} bytes of binary data>", body.len());
    };
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return minify_json(text);
    }
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
        .to_owned()
}

/// Removes the whitespace outside strings of valid JSON text.
fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_display_like_the_seed() {
        assert_eq!(
            display_body(b"{ \"response\" : {\"name\": \"main resource\"} }\n"),
            r#"{"response":{"name":"main resource"}}"#
        );
        assert_eq!(display_body(br#"{"b":1,"a":"x \" y"}"#), r#"{"b":1,"a":"x \" y"}"#);
        assert_eq!(display_body(b"hello a\n"), "hello a");
        assert_eq!(display_body(&[0xff, 0xfe]), "<2 bytes of binary data>");
    }
}
