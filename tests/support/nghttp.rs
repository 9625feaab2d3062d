//! `nghttp` (Debian `nghttp2-client`) runs and the frames it printed.

use std::process::Command;
use std::time::Duration;

use super::run_bounded;

/// Runs `nghttp ARGS` (30 s at most); panics unless it succeeded.
pub fn nghttp(args: &[&str]) -> String {
    // nghttp not found: install Debian's nghttp2-client (.ci/run does).
    let out = run_bounded(Command::new("nghttp").args(args), Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "nghttp failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// One frame `nghttp -v` received: `recv KIND frame <length=L, flags=F, stream_id=S>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recv {
    /// `HEADERS`, `DATA`, `PUSH_PROMISE`, ...
    pub kind: String,
    /// The payload length.
    pub length: u32,
    /// The flags byte, as printed (`0x05`).
    pub flags: String,
    /// The stream.
    pub stream: u32,
    /// The header fields nghttp printed for it (before its line).
    pub fields: Vec<(String, String)>,
}

/// The frames in `nghttp -v` output, in order, each with its fields.
pub fn received(verbose: &str) -> Vec<Recv> {
    let mut frames = Vec::new();
    let mut fields = Vec::new();
    for line in verbose.lines() {
        let Some(rest) = line.split_once("] recv ").map(|(_, r)| r) else {
            continue;
        };
        if let Some(field) = rest.strip_prefix('(') {
            // (stream_id=N) name: value
            if let Some((_, nv)) = field.split_once(") ")
                && let Some((name, value)) = nv.split_once(": ")
            {
                fields.push((name.to_string(), value.to_string()));
            }
            continue;
        }
        let Some((kind, info)) = rest.split_once(" frame <") else {
            continue;
        };
        let value = |key: &str| {
            info.split(", ")
                .find_map(|kv| kv.trim_end_matches('>').strip_prefix(key))
                .unwrap_or_default()
                .to_string()
        };
        frames.push(Recv {
            kind: kind.to_string(),
            length: value("length=").parse().unwrap_or(0),
            flags: value("flags="),
            stream: value("stream_id=").parse().unwrap_or(0),
            fields: std::mem::take(&mut fields),
        });
    }
    frames
}

impl Recv {
    /// The value of header field `name`, if it has one.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of header field `name`.
    pub fn fields_named(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
