//! `push-host call`: one request through the real sandbox, with no
//! network. The component is loaded as `--module` loads it and served on an
//! in-memory HTTP/2 connection ([`crate::server::serve_stream`]); the
//! `push-client` library is the client on the other end (push on or off,
//! promises refused by path), and what it saw is the [`Transcript`].

use std::sync::Arc;

use serde::Serialize;

use crate::config::{Grants, Limits};
use crate::ops::metrics::Metrics;
use crate::runtime::cache::CompileCache;
use crate::runtime::{DEFAULT_TENANT, LoadError, Pool, Runtime, Sandbox};

/// The authority the request carries (promises are made on it).
pub const AUTHORITY: &str = "localhost";

/// The request `call` sends, and the simulated client.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET` unless given.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Extra request header fields.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// SETTINGS_ENABLE_PUSH.
    pub push: bool,
    /// Promised paths the client resets (`RST_STREAM(CANCEL)`) as they arrive.
    pub refuse: Vec<String>,
}

/// Why `call` could not run the request at all.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The component does not load.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The in-memory connection failed (not the handler's doing).
    #[error("{0}")]
    Client(#[from] push_client::Error),
}

/// A response as the client received it.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header fields, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// One promise the client received.
#[derive(Debug, Clone, Serialize)]
pub struct Promise {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The promised path.
    pub path: String,
    /// Reset by the client (`--refuse`).
    pub refused: bool,
}

/// One promised response, or why it did not arrive.
#[derive(Debug, Clone, Serialize)]
pub struct Push {
    /// The promised path.
    pub path: String,
    /// The pushed response, if it arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Reply>,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the client saw, in order: the promises, the response, each push.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    /// `METHOD PATH` of the request.
    pub request: String,
    /// In the order they arrived.
    pub promises: Vec<Promise>,
    /// The main response, unless the stream failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Reply>,
    /// Why there is no main response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The promised responses of the promises not refused, in promise order.
    pub pushes: Vec<Push>,
}

impl Transcript {
    /// Whether the handler answered with a 2xx status.
    pub fn succeeded(&self) -> bool {
        self.response.as_ref().is_some_and(|r| (200..300).contains(&r.status))
    }

    /// The transcript for a person: one line per event, bodies in between.
    pub fn to_text(&self) -> String {
        let mut out = format!("> {}\n", self.request);
        for p in &self.promises {
            let refused = if p.refused { " (refused: --refuse)" } else { "" };
            out += &format!("< promise {} {}{refused}\n", p.method, p.path);
        }
        match (&self.response, &self.error) {
            (Some(r), _) => reply_text(&mut out, "response", r),
            (None, Some(e)) => out += &format!("< response failed: {e}\n"),
            (None, None) => {}
        }
        for p in &self.pushes {
            match (&p.response, &p.error) {
                (Some(r), _) => reply_text(&mut out, &format!("push {}", p.path), r),
                (None, e) => out += &format!("< push {} failed: {}\n", p.path, e.as_deref().unwrap_or("?")),
            }
        }
        out
    }
}

fn reply_text(out: &mut String, what: &str, r: &Reply) {
    *out += &format!("< {what}: {}\n", r.status);
    for (name, value) in &r.headers {
        *out += &format!("<   {name}: {value}\n");
    }
    if !r.body.is_empty() {
        *out += &r.body;
        if !r.body.ends_with('\n') {
            out.push('\n');
        }
    }
}

/// Loads `module` under `limits` and runs `call` through it.
pub async fn run(
    module: &std::path::Path,
    limits: Limits,
    cache: CompileCache,
    call: &Call,
) -> Result<Transcript, CallError> {
    let metrics = Arc::new(Metrics::default());
    let sandbox = Sandbox::new(&Pool::for_limits(&limits), cache, metrics.clone())?;
    let runtime = Runtime::load_into(&sandbox, DEFAULT_TENANT, module, limits, Grants::default()).await?;
    let connections = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let client = push_client::Client::builder()
        .enable_push(call.push)
        .max_retries(0)
        .connect_with(&format!("http://{AUTHORITY}"), move || {
            let (client_end, server_end) = tokio::io::duplex(1 << 20);
            let id = connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::spawn(crate::server::serve_stream(
                runtime.clone(),
                server_end,
                id,
                metrics.clone(),
            ));
            async move { Ok(client_end) }
        })
        .await?;
    let transcript = exchange(&client, call).await;
    // Frames still queued (a refusal's RST_STREAM) reach the host first.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), client.close()).await;
    Ok(transcript)
}

/// Sends the request and reads everything the client gets.
async fn exchange(client: &push_client::Client, call: &Call) -> Transcript {
    let mut transcript = Transcript {
        request: format!("{} {}", call.method, call.path),
        promises: Vec::new(),
        response: None,
        error: None,
        pushes: Vec::new(),
    };
    let method = match http::Method::from_bytes(call.method.as_bytes()) {
        Ok(method) => method,
        Err(e) => {
            transcript.error = Some(format!("invalid method {:?}: {e}", call.method));
            return transcript;
        }
    };
    let mut request = push_client::Request::new(method, call.path.clone()).body(call.body.clone());
    for (name, value) in &call.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut handle = match client.submit(request).await {
        Ok(handle) => handle,
        Err(e) => {
            transcript.error = Some(e.to_string());
            return transcript;
        }
    };
    let mut kept = Vec::new();
    while let Some(promise) = handle.next_promise().await {
        let refused = call.refuse.iter().any(|p| p == promise.path());
        transcript.promises.push(Promise {
            method: promise.method().to_string(),
            path: promise.path().to_string(),
            refused,
        });
        if refused {
            handle.reject(promise);
        } else {
            kept.push(promise);
        }
    }
    match handle.response().await {
        Ok(r) => transcript.response = Some(reply(&r)),
        Err(e) => transcript.error = Some(e.to_string()),
    }
    for promise in kept {
        let path = promise.path().to_string();
        let push = match handle.promised_response(promise).await {
            Ok(r) => Push {
                path,
                response: Some(reply(&r)),
                error: None,
            },
            Err(e) => Push {
                path,
                response: None,
                error: Some(e.to_string()),
            },
        };
        transcript.pushes.push(push);
    }
    transcript
}

fn reply(r: &push_client::Response) -> Reply {
    Reply {
        status: r.status().as_u16(),
        headers: r
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&r.bytes()).into_owned(),
    }
}
