//! The log's text format, written for the request path's cost: the same
//! layout as `tracing-subscriber`'s default (`Full`, no ANSI colours) —
//! `2026-11-26T10:56:17.559680Z  INFO push_host::server::request: message key=value …`
//! — at about a third of its CPU per line (the default formats the time from
//! scratch and escapes the message one character at a time).
//!
//! Used when stderr is not a terminal (servers, tests, benchmarks); on a
//! terminal the default, coloured format is kept. As in the default, control
//! characters that could drive a terminal (ESC, BEL, BS, FF, DEL, C1) are
//! escaped in the message, so a guest's output or a request path cannot
//! inject escape sequences into the log.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The text event format (see the module docs).
#[derive(Debug, Default, Clone, Copy)]
pub struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        write_timestamp(&mut w, SystemTime::now())?;
        w.write_str(match *meta.level() {
            Level::ERROR => " ERROR ",
            Level::WARN => "  WARN ",
            Level::INFO => "  INFO ",
            Level::DEBUG => " DEBUG ",
            Level::TRACE => " TRACE ",
        })?;
        w.write_str(meta.target())?;
        w.write_str(": ")?;
        // The message first, then the other fields in their order.
        let mut fields = Fields {
            w: &mut w,
            message: true,
            any: false,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.message = false;
        event.record(&mut fields);
        fields.result?;
        w.write_char('\n')
    }
}

/// Writes the message (first pass) or the other fields (second pass).
struct Fields<'a, 'w> {
    w: &'a mut Writer<'w>,
    message: bool,
    any: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Whether `field` is written in this pass; writes the separator if so.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || (name == "message") != self.message || name.starts_with("log.") {
            return false;
        }
        if self.any {
            self.result = self.w.write_char(' ');
        }
        self.any = true;
        if !self.message {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|_| self.w.write_str(name))
                .and_then(|_| self.w.write_char('='));
        }
        self.result.is_ok()
    }
}

impl Visit for Fields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = self.w.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = self.w.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = self.w.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            self.result = if self.message {
                Escaping(self.w).write_str(value)
            } else {
                write!(self.w, "{value:?}")
            };
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = if self.message {
                write!(Escaping(self.w), "{value:?}")
            } else {
                write!(self.w, "{value:?}")
            };
        }
    }
}

/// Escapes the control characters a terminal would act on, passing runs of
/// other text through in one write.
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut clean = 0;
        for (i, ch) in s.char_indices() {
            let escaped = match ch {
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}' => ch as u32,
                _ => continue,
            };
            self.0.write_str(&s[clean..i])?;
            match escaped {
                0x00..=0x7f => write!(self.0, "\\x{escaped:02x}")?,
                _ => write!(self.0, "\\u{{{escaped:x}}}")?,
            }
            clean = i + ch.len_utf8();
        }
        self.0.write_str(&s[clean..])
    }
}

thread_local! {
    /// The formatted `YYYY-MM-DDTHH:MM:SS` of the last second seen.
    static SECOND: RefCell<(u64, [u8; 19])> = const { RefCell::new((u64::MAX, [0; 19])) };
}

/// `2026-11-26T10:56:17.559680Z` (UTC, microseconds), as the default timer.
fn write_timestamp(w: &mut impl fmt::Write, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            *cached = (secs, civil(secs));
        }
        // Only ASCII digits and separators are ever stored.
        w.write_str(std::str::from_utf8(&cached.1).unwrap_or("????-??-??T??:??:??"))
    })?;
    let micros = since.subsec_micros();
    let mut frac = *b".000000Z";
    let mut n = micros;
    for slot in frac[1..7].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    w.write_str(std::str::from_utf8(&frac).unwrap_or(".??????Z"))
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the Unix epoch (UTC), by Howard
/// Hinnant's days-to-civil algorithm.
fn civil(secs: u64) -> [u8; 19] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year.clamp(0, 9999) as u64);
    put(5, 2, month as u64);
    put(8, 2, day as u64);
    put(11, 2, rem / 3600);
    put(14, 2, rem % 3600 / 60);
    put(17, 2, rem % 60);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    /// The events every test logs: a request line, a line with a guest's
    /// escape sequences, a warning without fields.
    fn log_events() {
        let path = "/x";
        tracing::info!(
            tenant = %"default",
            status = 200u16,
            protocol = "h2",
            promised = 3u32,
            instantiate_us = 12u64,
            delta = -4i64,
            ok = true,
            "conn=1 stream=3 GET {path}: handled in {} ms",
            0
        );
        tracing::warn!("guest says \x1b[31mred\x07 and \u{9b}2J, then caf\u{e9}");
        tracing::error!(r#type = "x", "e");
    }

    fn lines(f: impl FnOnce(Capture) -> tracing::Dispatch) -> String {
        let capture = Capture::default();
        tracing::dispatcher::with_default(&f(capture.clone()), log_events);
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    /// Each line is the default format's line, timestamps aside.
    #[test]
    fn same_lines_as_the_default_format() {
        let ours = lines(|c| {
            tracing_subscriber::fmt()
                .with_writer(c)
                .with_ansi(false)
                .event_format(LineFormat)
                .finish()
                .into()
        });
        let default = lines(|c| {
            tracing_subscriber::fmt()
                .with_writer(c)
                .with_ansi(false)
                .finish()
                .into()
        });
        let strip = |s: &str| -> Vec<String> { s.lines().map(|l| l[27..].to_string()).collect() };
        assert_eq!(strip(&ours), strip(&default), "ours:\n{ours}\ndefault:\n{default}");
        assert_eq!(ours.lines().count(), 3);
        assert!(
            ours.contains(r"guest says \x1b[31mred\x07 and \u{9b}2J, then café"),
            "{ours}"
        );
        for (a, b) in ours.lines().zip(default.lines()) {
            assert_eq!(a.as_bytes()[4], b'-', "{a}");
            assert_eq!(a.as_bytes()[26], b'Z', "{a}");
            assert_eq!(&a[..13], &b[..13], "same date and hour: {a} / {b}");
        }
    }

    #[test]
    fn timestamps() {
        let at = |secs: u64, micros: u32| {
            let mut s = String::new();
            write_timestamp(
                &mut s,
                UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()),
            )
            .unwrap();
            s
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(1_795_690_577, 559_680), "2026-11-26T10:56:17.559680Z");
        assert_eq!(at(4_102_444_799, 999_999), "2099-12-31T23:59:59.999999Z");
        // The cached second is replaced when the second changes.
        assert_eq!(at(86_399, 5), "1970-01-01T23:59:59.000005Z");
        assert_eq!(at(86_400, 5), "1970-01-02T00:00:00.000005Z");
    }
}
