//! `push-client URL [--reject PATH]... [--no-push] [-H 'name: value']... [--json]`
//!
//! GETs URL over HTTP/2 (h2c), prints each push promise as it arrives,
//! rejects those for the `--reject` paths, then prints the response and the
//! promised responses. Exit status: 0 on success, 1 when the exchange fails
//! (refused connection, protocol error, non-2xx response...), 2 for bad
//! arguments (including a malformed URL); failures print one line to stderr.

mod output;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::error::ErrorKind;
use push_client::{Client, Error, PushPromise, Request};

use crate::output::Output;

/// HTTP/2 client that consumes server push.
#[derive(Debug, Parser)]
#[command(name = "push-client", version)]
struct Args {
    /// The URL to GET, e.g. http://127.0.0.1:8080/http2Service (h2c) or
    /// https://localhost:8443/http2Service (TLS, ALPN h2).
    url: String,

    /// For https://: also trust the CA certificate(s) in this PEM file.
    #[arg(long, value_name = "PATH")]
    cacert: Vec<std::path::PathBuf>,

    /// For https://: accept any server certificate without verifying it
    /// (throwaway test servers only).
    #[arg(long)]
    insecure: bool,

    /// Reject the promise for PATH (RST_STREAM CANCEL); repeatable.
    #[arg(long, value_name = "PATH")]
    reject: Vec<String>,

    /// Ask the server not to push at all (SETTINGS_ENABLE_PUSH = 0).
    #[arg(long)]
    no_push: bool,

    /// Add a request header; repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,

    /// Print one JSON object per event (one per line) instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.trim().to_owned())),
        _ => Err(format!("expected `name: value`, got `{s}`")),
    }
}

/// Why the run failed: the line to print and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = match e {
            Error::InvalidUrl { .. }
            | Error::UnsupportedScheme { .. }
            | Error::InvalidRequest { .. }
            | Error::CaFile { .. } => 2,
            _ => 1,
        };
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

/// Parses the arguments; a usage error is one line on stderr and exit
/// status 2 (clap's own report adds usage text and tips).
fn parse_args() -> Result<Args, ExitCode> {
    match Args::try_parse() {
        Ok(args) => Ok(args),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            // --help / --version: clap prints them to stdout.
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("push-client: error: {} (see --help)", one_line(&e.to_string()));
            Err(ExitCode::from(2))
        }
    }
}

/// The first paragraph of a clap error on one line, without its `error: `.
fn one_line(report: &str) -> String {
    let first = report.trim_start().split("\n\n").next().unwrap_or_default();
    let joined = first.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(code) => return code,
    };
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let out = Output::new(args.json);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.error(&failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// The path and query of `url`, for the request (`/` if it has none).
fn request_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        // `Client::connect` reports the malformed URL.
        Err(_) => "/".to_owned(),
    }
}

fn wants_rejecting(args: &Args, promise: &PushPromise) -> bool {
    let path = promise.path();
    let bare = path.split('?').next().unwrap_or(path);
    args.reject.iter().any(|r| r == path || r == bare)
}

async fn run(args: &Args, out: &Output) -> Result<(), Failure> {
    let mut builder = Client::builder().enable_push(!args.no_push).insecure(args.insecure);
    for ca in &args.cacert {
        builder = builder.ca_file(ca);
    }
    let client = builder.connect(&args.url).await?;
    let mut request = Request::get(request_path(&args.url));
    for (name, value) in &args.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut handle = client.submit(request).await?;

    let mut kept = Vec::new();
    let mut refused_seen = 0;
    loop {
        let more = handle.has_promise().await;
        for refused in &handle.refused_promises()[refused_seen..] {
            out.refused(refused);
        }
        refused_seen = handle.refused_promises().len();
        if !more {
            break;
        }
        let Some(promise) = handle.next_promise().await else {
            break;
        };
        out.promise(&promise);
        if wants_rejecting(args, &promise) {
            out.rejected(&promise);
            handle.reject(promise);
        } else {
            kept.push(promise);
        }
    }

    let response = handle.response().await?;
    out.response(&response);
    response.error_for_status(handle.request())?;

    for promise in kept {
        let (stream_id, path) = (promise.stream_id(), promise.path().to_owned());
        match handle.promised_response(promise).await {
            Ok(pushed) => out.promised(stream_id, &path, &pushed),
            // The server may cancel a push it promised; that is its right.
            Err(e @ Error::StreamReset { .. }) => out.push_failed(stream_id, &path, &e),
            Err(e) => return Err(e.into()),
        }
    }
    // Let the connection flush (e.g. the resets of rejected promises) and
    // close before the process exits.
    drop(handle);
    let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_reports_fold_to_one_line() {
        let report = "error: the following required arguments were not provided:\n  <URL>\n\n\
                      Usage: push-client <URL>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(report),
            "the following required arguments were not provided: <URL>"
        );
    }
}
