//! The report: a table for people, one JSON object for scripts.

use std::fmt::Write as _;

use crate::stats::Summary;
use crate::validate::ErrorKind;

/// One JSON object (single line).
pub fn json(summary: &Summary) -> String {
    serde_json::to_string(summary).expect("a summary serializes")
}

/// Why a run may have failed, when the errors suggest a likely cause.
///
/// push-bench asks for the same URL again and again on each connection. A
/// server that never pushes what a connection already has (push-host's push
/// diary, on by default) then pushes nothing after the first request, and
/// every later request counts as `missing_push`.
pub fn hint(s: &Summary) -> Option<&'static str> {
    let missing = s
        .errors_by_kind
        .get(ErrorKind::MissingPush.name())
        .and_then(|v| v.as_u64());
    (missing > Some(0)).then_some(
        "hint: push-bench requests the same URL repeatedly on each connection; a server that never pushes \
         what a connection already received pushes only for the first request (push-host: run it with \
         --push-diary 0 to benchmark pushes)",
    )
}

/// The table.
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "push-bench {}", s.url);
    let _ = writeln!(
        w,
        "  {} connections x {} streams, {} pushes/request, {} thread(s), warm-up {:.1} s",
        s.connections, s.streams_per_connection, s.pushes_per_request, s.threads, s.warmup_s
    );
    let _ = writeln!(w, "  requests     {}", s.requests);
    let _ = writeln!(w, "  duration     {:.3} s", s.duration_s);
    let _ = writeln!(w, "  requests/s   {:.1}", s.requests_per_sec);
    let _ = writeln!(w, "  pushes/s     {:.1}", s.pushes_per_sec);
    let _ = writeln!(
        w,
        "  latency ms   p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
    );
    if s.retried > 0 {
        let _ = writeln!(
            w,
            "  retried      {} (not processed by the server: GOAWAY or REFUSED_STREAM; sent again on a new connection)",
            s.retried
        );
    }
    let _ = write!(w, "  errors       {}", s.errors);
    let kinds: Vec<String> = ErrorKind::ALL
        .iter()
        .filter_map(|k| {
            let n = s.errors_by_kind.get(k.name())?.as_u64()?;
            (n > 0).then(|| format!("{} {n}", k.name()))
        })
        .collect();
    if !kinds.is_empty() {
        let _ = write!(w, " ({})", kinds.join(", "));
    }
    let _ = writeln!(w);
    for m in &s.error_messages {
        let _ = writeln!(w, "    {m}");
    }
    if let Some(h) = hint(s) {
        let _ = writeln!(w, "  {h}");
    }
    match s.server_cpu_us_per_request {
        Some(us) => {
            let _ = writeln!(w, "  server CPU   {us:.1} µs/request");
        }
        None => {
            let _ = writeln!(w, "  server CPU   unknown (--server-pid)");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stats::{RunInfo, SlotStats};
    use crate::validate::Failure;

    fn summary(errors: bool) -> Summary {
        let mut st = SlotStats::new();
        st.success(Duration::from_millis(2), 3);
        if errors {
            st.error(Failure::new(ErrorKind::MissingPush, "got 2 pushes, expected 3"));
        }
        let info = RunInfo {
            url: "http://127.0.0.1:1/index.json".into(),
            duration: Duration::from_secs(1),
            server_cpu: None,
            connections: 2,
            streams_per_connection: 4,
            pushes_per_request: 3,
            threads: 1,
            warmup: Duration::from_secs(1),
        };
        Summary::new(&st, &info)
    }

    #[test]
    fn json_has_the_promised_fields() {
        let v: serde_json::Value = serde_json::from_str(&json(&summary(false))).unwrap();
        for key in [
            "requests",
            "duration_s",
            "requests_per_sec",
            "pushes_per_sec",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "max_ms",
            "errors",
            "server_cpu_us_per_request",
            "connections",
            "streams_per_connection",
            "pushes_per_request",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["requests"], 1);
        assert!(v["server_cpu_us_per_request"].is_null());
        assert_eq!(v["streams_per_connection"], 4);
    }

    #[test]
    fn table_lists_error_kinds_and_messages() {
        let t = table(&summary(true));
        assert!(t.contains("errors       1 (missing_push 1)"), "{t}");
        assert!(t.contains("got 2 pushes, expected 3"), "{t}");
        assert!(t.contains("pushes/s     3.0"), "{t}");
        let t = table(&summary(false));
        assert!(t.contains("errors       0\n"), "{t}");
    }

    #[test]
    fn a_missing_push_names_the_push_diary() {
        let t = table(&summary(true));
        assert!(t.contains("--push-diary 0"), "{t}");
        assert!(hint(&summary(true)).is_some());
        assert!(hint(&summary(false)).is_none());
        assert!(!table(&summary(false)).contains("hint"));
    }
}
