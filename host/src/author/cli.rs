//! The `new` and `call` subcommands of the `push-host` binary: their flags
//! (clap) and what each runs.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Limits;
use crate::runtime::cache::CompileCache;

/// The handler author's tools (README: docs/src/testing.md).
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write a new handler project (handler, build script, README) from a
    /// template inside this binary.
    New(NewArgs),
    /// Run one request through a component in the real sandbox, with no
    /// network, and print what a client saw: the promises, the response,
    /// the pushes. Exits 1 unless the response is 2xx (a trap is 500, a
    /// timeout 504), 2 if the component does not load.
    Call(CallArgs),
}

/// `new`'s flags (its help text is [`Command::New`]'s).
#[derive(clap::Args, Debug)]
#[command(about = None, long_about = None)]
pub struct NewArgs {
    /// The project's name (lowercase letters, digits, '-', '_').
    name: String,
    /// The handler's language and world.
    #[arg(long, value_enum, default_value = "rust")]
    lang: super::new::Lang,
    /// Where to write it (default: ./NAME); must be absent or empty.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust: the push-guest crate to depend on (default: guest-sdk/ of the
    /// checkout this binary was built from).
    #[arg(long, value_name = "PATH")]
    sdk: Option<PathBuf>,
}

/// `call`'s flags (its help text is [`Command::Call`]'s).
#[derive(clap::Args, Debug)]
#[command(about = None, long_about = None)]
pub struct CallArgs {
    /// The component (.wasm).
    #[arg(long)]
    module: PathBuf,
    /// The request's method.
    #[arg(short = 'X', long = "request", value_name = "METHOD", default_value = "GET")]
    method: String,
    /// A request header, `name: value`; repeatable.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// The request body; `@FILE` reads it from FILE.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    data: Option<String>,
    /// The client disables push (SETTINGS_ENABLE_PUSH = 0).
    #[arg(long)]
    no_push: bool,
    /// The client resets the promise of PATH as it arrives; repeatable.
    #[arg(long, value_name = "PATH")]
    refuse: Vec<String>,
    /// Print the transcript as one JSON object.
    #[arg(long)]
    json: bool,
    /// The request's deadline, in milliseconds (504 past it).
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Linear memory of the instance, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mb: usize,
    /// `promise` calls allowed.
    #[arg(long, default_value_t = 32)]
    max_pushes: u32,
    /// Compile the component without the compile cache.
    #[arg(long)]
    no_cache: bool,
    /// Path (and query) to request.
    path: String,
}

/// `push-host new`.
pub fn new_project(args: &NewArgs) -> Result<(), super::new::NewError> {
    use super::new;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    let sdk = args.sdk.clone().unwrap_or_else(new::default_sdk);
    let files = new::create(&args.name, args.lang, &dir, &sdk)?;
    println!("created {} ({}):", dir.display(), files.join(", "));
    println!("  cd {} && ./build.sh", dir.display());
    println!("  push-host --module {}.wasm --watch", args.name);
    Ok(())
}

/// `push-host call`: the exit status.
pub async fn call_once(args: &CallArgs) -> i32 {
    use super::call::{self, Call};
    // The host's lines for the request (its status and any failure's
    // cause) and the guest's output go to stderr; the transcript to stdout.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,guest=info,push_host::server=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(crate::ops::logfmt::LineFormat)
        .init();
    let fail = |message: String| {
        eprintln!("push-host call: {message}");
        2
    };
    let mut headers = Vec::new();
    for h in &args.headers {
        match h.split_once(':') {
            Some((name, value)) => headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string())),
            None => return fail(format!("-H {h:?}: expected `name: value`")),
        }
    }
    let body = match args.data.as_deref() {
        Some(data) => match data.strip_prefix('@') {
            Some(file) => match std::fs::read(file) {
                Ok(body) => body,
                Err(e) => return fail(format!("-d @{file}: {e}")),
            },
            None => data.as_bytes().to_vec(),
        },
        None => Vec::new(),
    };
    let limits = Limits {
        timeout: Duration::from_millis(args.timeout_ms),
        memory_bytes: args.memory_mb.max(1) << 20,
        max_pushes: args.max_pushes,
        max_concurrent: 4,
        ..Limits::default()
    };
    let cache = if args.no_cache {
        CompileCache::off()
    } else {
        CompileCache::default_dir().map_or_else(CompileCache::off, CompileCache::at)
    };
    let request = Call {
        method: args.method.clone(),
        path: args.path.clone(),
        headers,
        body,
        push: !args.no_push,
        refuse: args.refuse.clone(),
    };
    let transcript = match call::run(&args.module, limits, cache, &request).await {
        Ok(transcript) => transcript,
        Err(e) => return fail(e.to_string()),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&transcript).expect("a transcript serializes")
        );
    } else {
        print!("{}", transcript.to_text());
    }
    if transcript.succeeded() { 0 } else { 1 }
}
