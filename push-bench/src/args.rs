//! Command-line flags and their checks.
//!
//! clap parses the flags ([`Cli`]); [`Cli::into_config`] applies the rules
//! clap cannot express (one of `-d`/`-n`, `--no-push` needs `--pushes 0`,
//! an `http://` URL with an authority) and yields the [`Config`] the run uses.

use std::time::Duration;

use clap::Parser;
use http::Uri;
use http::uri::Scheme;

/// HTTP/2 (h2c, prior knowledge) load generator that understands server push.
#[derive(Debug, Parser)]
#[command(name = "push-bench", version)]
pub struct Cli {
    /// The URL to GET, e.g. http://127.0.0.1:8080/index.json (http:// only).
    pub url: String,

    /// Number of connections.
    #[arg(short = 'c', long = "connections", value_name = "N", default_value_t = 8)]
    pub connections: usize,

    /// Concurrent streams (requests in flight) per connection.
    #[arg(short = 'm', long = "streams", value_name = "N", default_value_t = 8)]
    pub streams: usize,

    /// Measure for this many seconds (default 10 unless -n is given).
    #[arg(short = 'd', long = "duration", value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// Measure this many requests in total instead of a duration.
    #[arg(short = 'n', long = "requests", value_name = "REQUESTS")]
    pub requests: Option<u64>,

    /// Warm-up before measuring; requests completing during it are not counted.
    #[arg(short = 'w', long = "warmup", value_name = "SECONDS", default_value_t = 1.0)]
    pub warmup: f64,

    /// Number of pushes every response must carry.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub pushes: usize,

    /// Send SETTINGS_ENABLE_PUSH=0 (any push is then an error; needs --pushes 0).
    #[arg(long)]
    pub no_push: bool,

    /// Tokio worker threads (1 runs everything on the calling thread).
    #[arg(short = 't', long = "threads", value_name = "THREADS", default_value_t = 1)]
    pub threads: usize,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Report this process's CPU time (all threads) per completed request.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,

    /// Send at most this many requests per second in total (paced evenly
    /// across the stream slots), e.g. for a soak at a fraction of the peak.
    #[arg(long, value_name = "REQUESTS_PER_SEC")]
    pub rate: Option<f64>,
}

/// When the measured window ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// After this long.
    Duration(Duration),
    /// After this many requests (successful or failed) completed in the window.
    Requests(u64),
}

/// A checked set of flags.
#[derive(Debug, Clone)]
pub struct Config {
    pub url: Uri,
    pub connections: usize,
    pub streams: usize,
    pub limit: Limit,
    pub warmup: Duration,
    pub pushes: usize,
    pub no_push: bool,
    pub threads: usize,
    pub json: bool,
    pub server_pid: Option<u32>,
    /// Pace: at most this many requests per second.
    pub rate: Option<f64>,
}

/// A flag combination or value the run cannot use (exit status 2).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ArgsError {
    #[error("invalid URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("only http:// URLs are supported (h2c prior knowledge), got `{0}`")]
    Scheme(String),
    #[error("-d and -n are mutually exclusive")]
    DurationAndRequests,
    #[error("{flag} must be {what}, got {value}")]
    Range {
        flag: &'static str,
        what: &'static str,
        value: String,
    },
    #[error("--no-push requires --pushes 0 (got --pushes {0})")]
    NoPushWithPushes(usize),
}

fn positive_secs(flag: &'static str, v: f64) -> Result<Duration, ArgsError> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ArgsError::Range {
            flag,
            what: "a positive number of seconds",
            value: v.to_string(),
        })
    }
}

fn at_least_one(flag: &'static str, v: usize) -> Result<usize, ArgsError> {
    if v >= 1 {
        Ok(v)
    } else {
        Err(ArgsError::Range {
            flag,
            what: "at least 1",
            value: v.to_string(),
        })
    }
}

/// Parses and checks the URL: `http://host[:port]/path`.
pub fn parse_url(s: &str) -> Result<Uri, ArgsError> {
    let url: Uri = s.parse().map_err(|e: http::uri::InvalidUri| ArgsError::BadUrl {
        url: s.to_owned(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        Some(scheme) if *scheme == Scheme::HTTP => {}
        _ => return Err(ArgsError::Scheme(s.to_owned())),
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(ArgsError::BadUrl {
            url: s.to_owned(),
            reason: "no host".to_owned(),
        });
    }
    if url.path_and_query().is_none() {
        // `http://host:port` means `/`.
        let mut parts = url.into_parts();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        return Uri::from_parts(parts).map_err(|e| ArgsError::BadUrl {
            url: s.to_owned(),
            reason: e.to_string(),
        });
    }
    Ok(url)
}

impl Cli {
    /// Applies the rules clap does not express.
    pub fn into_config(self) -> Result<Config, ArgsError> {
        let url = parse_url(&self.url)?;
        let limit = match (self.duration, self.requests) {
            (Some(_), Some(_)) => return Err(ArgsError::DurationAndRequests),
            (Some(d), None) => Limit::Duration(positive_secs("-d", d)?),
            (None, Some(0)) => {
                return Err(ArgsError::Range {
                    flag: "-n",
                    what: "at least 1",
                    value: "0".to_owned(),
                });
            }
            (None, Some(n)) => Limit::Requests(n),
            (None, None) => Limit::Duration(Duration::from_secs(10)),
        };
        let warmup = if self.warmup == 0.0 {
            Duration::ZERO
        } else {
            positive_secs("-w", self.warmup)?
        };
        if self.no_push && self.pushes != 0 {
            return Err(ArgsError::NoPushWithPushes(self.pushes));
        }
        Ok(Config {
            url,
            connections: at_least_one("-c", self.connections)?,
            streams: at_least_one("-m", self.streams)?,
            limit,
            warmup,
            pushes: self.pushes,
            no_push: self.no_push,
            threads: at_least_one("-t", self.threads)?,
            json: self.json,
            server_pid: self.server_pid,
            rate: match self.rate {
                Some(r) if !(r > 0.0 && r.is_finite()) => {
                    return Err(ArgsError::Range {
                        flag: "--rate",
                        what: "a positive number",
                        value: r.to_string(),
                    });
                }
                rate => rate,
            },
        })
    }
}

/// The one line printed for a clap error: its message lines (without the
/// `error: ` prefix, tips and usage) joined by spaces.
pub fn clap_error_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect::<Vec<_>>()
        .join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    if line.is_empty() {
        "invalid arguments".to_owned()
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, ArgsError> {
        let mut argv = vec!["push-bench"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("clap accepts").into_config()
    }

    #[test]
    fn defaults() {
        let c = config(&["http://127.0.0.1:8080/index.json"]).unwrap();
        assert_eq!(c.connections, 8);
        assert_eq!(c.streams, 8);
        assert_eq!(c.limit, Limit::Duration(Duration::from_secs(10)));
        assert_eq!(c.warmup, Duration::from_secs(1));
        assert_eq!(c.pushes, 0);
        assert!(!c.no_push && !c.json);
        assert_eq!(c.threads, 1);
        assert_eq!(c.server_pid, None);
        assert_eq!(c.url.path(), "/index.json");
    }

    #[test]
    fn all_flags() {
        let c = config(&[
            "-c",
            "2",
            "-m",
            "4",
            "-n",
            "200",
            "-w",
            "0",
            "--pushes",
            "3",
            "-t",
            "2",
            "--json",
            "--server-pid",
            "42",
            "http://localhost:1/a?b=c",
        ])
        .unwrap();
        assert_eq!((c.connections, c.streams, c.pushes, c.threads), (2, 4, 3, 2));
        assert_eq!(c.limit, Limit::Requests(200));
        assert_eq!(c.warmup, Duration::ZERO);
        assert!(c.json);
        assert_eq!(c.server_pid, Some(42));
        assert_eq!(c.url.path_and_query().unwrap().as_str(), "/a?b=c");
    }

    #[test]
    fn url_without_path_means_root() {
        let c = config(&["-d", "0.5", "http://127.0.0.1:9"]).unwrap();
        assert_eq!(c.url.path(), "/");
        assert_eq!(c.limit, Limit::Duration(Duration::from_millis(500)));
    }

    #[test]
    fn rejected_combinations() {
        assert_eq!(
            config(&["-d", "1", "-n", "5", "http://h/"]).unwrap_err(),
            ArgsError::DurationAndRequests
        );
        assert_eq!(
            config(&["--no-push", "--pushes", "1", "http://h/"]).unwrap_err(),
            ArgsError::NoPushWithPushes(1)
        );
        assert!(config(&["--no-push", "http://h/"]).unwrap().no_push);
        assert!(matches!(config(&["https://h/"]), Err(ArgsError::Scheme(_))));
        assert!(matches!(config(&["/just/a/path"]), Err(ArgsError::Scheme(_))));
        assert!(matches!(config(&["http://h/ bad"]), Err(ArgsError::BadUrl { .. })));
        for bad in [
            "-c0",
            "-m0",
            "-t0",
            "-n0",
            "-d0",
            "--duration=-1",
            "--duration=NaN",
            "--warmup=-1",
            "--warmup=inf",
        ] {
            let err = config(&[bad, "http://h/"]).unwrap_err();
            assert!(matches!(err, ArgsError::Range { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn clap_errors_become_one_line() {
        let e = Cli::try_parse_from(["push-bench", "-c", "x", "http://h/"]).unwrap_err();
        let line = clap_error_line(&e);
        assert!(!line.contains('\n'));
        assert!(line.contains("-c"), "{line}");
        let e = Cli::try_parse_from(["push-bench"]).unwrap_err();
        let line = clap_error_line(&e);
        assert!(!line.contains('\n'));
        assert!(line.contains("<URL>"), "{line}");
        let e = Cli::try_parse_from(["push-bench", "--bogus", "http://h/"]).unwrap_err();
        assert_eq!(clap_error_line(&e), "unexpected argument '--bogus' found");
    }
}
