//! `push-bench URL [-c N] [-m N] [-d SECONDS | -n REQUESTS] [-w SECONDS]
//! [--pushes N] [--no-push] [-t THREADS] [--json] [--server-pid PID]`
//!
//! An HTTP/2 (h2c, prior knowledge) load generator that understands server
//! push — h2load always disables push, so it cannot measure pushes. It keeps
//! `-c` connections with `-m` requests in flight on each, and a request
//! counts as complete once its response and every pushed response have been
//! read to the end. Each request is validated as it goes: exactly `--pushes`
//! pushes, 2xx statuses, and bodies equal to the first body seen for their
//! path. Exit status: 0 clean run, 1 any error, 2 bad arguments (one line on
//! stderr).
//!
//! Layout:
//! - `args.rs` — flags (clap) and the checks clap cannot express → `Config`.
//! - `run.rs` — runtime, connections, one task per stream slot (c×m), the
//!   warm-up and measured window, server CPU readings at its edges.
//! - `conn.rs` — the hot path: connecting, the slot loop, and `Exchange`, one
//!   hand-written poll over a response, its promises and pushed responses
//!   (with the hyperium/h2#811 workaround).
//! - `validate.rs` — error kinds, push-count/status rules, body comparison
//!   against the first body per path.
//! - `stats.rs` — the window, per-slot counts and latency histogram
//!   (hdrhistogram), their merge into a `Summary`, `/proc/PID/stat` parsing.
//! - `output.rs` — the table and the JSON object.

mod args;
mod conn;
mod output;
mod run;
mod stats;
mod validate;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::args::Cli;

fn bad_args(line: &str) -> ExitCode {
    eprintln!("push-bench: {line}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return bad_args(&args::clap_error_line(&e)),
    };
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(e) => return bad_args(&e.to_string()),
    };
    if let Some(pid) = config.server_pid
        && let Err(e) = stats::process_cpu(pid)
    {
        return bad_args(&format!("--server-pid: {e}"));
    }
    let summary = match run::run(&config) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("push-bench: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if config.json {
        println!("{}", output::json(&summary));
        if let Some(h) = output::hint(&summary) {
            eprintln!("push-bench: {h}");
        }
    } else {
        print!("{}", output::table(&summary));
    }
    if summary.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
