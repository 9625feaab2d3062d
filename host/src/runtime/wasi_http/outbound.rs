//! Outgoing HTTP from guests (`wasi:http/outgoing-handler`): denied unless
//! the destination is in the tenant's `allowed_outbound_hosts` (spelled as
//! Spin spells it: `https://api.example.com`, `http://localhost:8080`,
//! `https://*.example.com`, `*://example.com:*`). A denial is
//! `error-code.HTTP-request-denied` in the guest and a log line naming the
//! destination.

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::config::AllowedHost;

/// The `wasi:http` hooks of one instance: outgoing requests go out only to
/// allowed destinations.
pub struct Outbound {
    allowed: Arc<[AllowedHost]>,
    tag: Arc<str>,
    /// Requests denied so far (only the first few are logged one by one).
    denied: usize,
}

/// Denials logged one by one per instance; the rest are counted in one line
/// when the instance ends, so a guest looping on denied requests cannot
/// flood the log.
const LOGGED_DENIALS: usize = 4;

impl Drop for Outbound {
    fn drop(&mut self) {
        if self.denied > LOGGED_DENIALS {
            tracing::warn!(
                "{}: {} outgoing requests denied in all (the first {LOGGED_DENIALS} logged)",
                self.tag,
                self.denied
            );
        }
    }
}

impl Outbound {
    /// Hooks allowing `allowed`, logging denials under `tag`.
    pub fn new(allowed: Arc<[AllowedHost]>, tag: Arc<str>) -> Self {
        Outbound {
            allowed,
            tag,
            denied: 0,
        }
    }
}

impl Outbound {
    /// Logs under `tag` from now on (a kept instance's next request).
    pub fn retag(&mut self, tag: Arc<str>) {
        self.tag = tag;
    }
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        let uri = request.uri().clone();
        if !self.allowed.iter().any(|a| a.allows(&uri)) {
            self.denied += 1;
            if self.denied <= LOGGED_DENIALS {
                tracing::warn!(
                    "{}: outgoing request to {uri} denied: not in the tenant's allowed_outbound_hosts",
                    self.tag
                );
            }
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        tracing::info!("{}: outgoing request to {uri}", self.tag);
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let response = response.map(BodyExt::boxed_unsync);
            Ok((
                response,
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}
