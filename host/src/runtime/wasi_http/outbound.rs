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

/// One entry of `allowed_outbound_hosts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    /// `http`, `https`, or `None` for `*`.
    scheme: Option<String>,
    /// An exact host, `*.suffix` (any subdomain), or `*`.
    host: String,
    /// A port, `None` for `*`; when absent it is the scheme's default.
    port: Port,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Port {
    Any,
    Default,
    Exact(u16),
}

impl AllowedHost {
    /// Parses `scheme://host[:port]` (each part may be `*`; a host may be
    /// `*.suffix`). No path, query or user part.
    pub fn parse(s: &str) -> Result<AllowedHost, String> {
        let bad = |why: &str| format!("allowed_outbound_hosts: {s:?} {why} (e.g. \"https://api.example.com\")");
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        let scheme = match scheme {
            "*" => None,
            "http" | "https" => Some(scheme.to_string()),
            _ => return Err(bad("has a scheme other than http, https or *")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad("must be scheme://host[:port] only"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, Port::Any),
            Some((host, port)) => (host, Port::Exact(port.parse().map_err(|_| bad("has a bad port"))?)),
            None => (rest, Port::Default),
        };
        let name = host.strip_prefix("*.").unwrap_or(host);
        if host != "*" && (name.is_empty() || name.contains('*')) {
            return Err(bad("has a bad host"));
        }
        Ok(AllowedHost {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `uri` goes where this entry allows.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return false;
        };
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let port_ok = match self.port {
            Port::Any => true,
            Port::Default => port == default_port,
            Port::Exact(p) => port == p,
        };
        let host = host.to_ascii_lowercase();
        let host_ok = match self.host.strip_prefix("*.") {
            _ if self.host == "*" => true,
            Some(suffix) => host
                .strip_suffix(suffix)
                .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => host == self.host,
        };
        port_ok && host_ok
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, uri: &str) -> bool {
        AllowedHost::parse(entry).unwrap().allows(&uri.parse().unwrap())
    }

    #[test]
    fn entries_match_scheme_host_and_port() {
        assert!(allows("https://api.example.com", "https://api.example.com/v1"));
        assert!(allows("https://api.example.com", "https://API.example.com:443/"));
        assert!(!allows("https://api.example.com", "http://api.example.com/"));
        assert!(!allows("https://api.example.com", "https://api.example.com:8443/"));
        assert!(!allows("https://api.example.com", "https://evil.com/?api.example.com"));
        assert!(!allows("https://api.example.com", "https://api.example.com.evil.com/"));
        assert!(allows("http://127.0.0.1:8080", "http://127.0.0.1:8080/x"));
        assert!(!allows("http://127.0.0.1:8080", "http://127.0.0.1:8081/x"));
        assert!(allows("*://example.com:*", "http://example.com:9/"));
        assert!(allows("https://*.example.com", "https://a.b.example.com/"));
        assert!(!allows("https://*.example.com", "https://example.com/"));
        assert!(!allows("https://*.example.com", "https://badexample.com/"));
        assert!(allows("https://*", "https://anything.org/"));
    }

    #[test]
    fn malformed_entries_are_errors() {
        for bad in [
            "api.example.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://",
            "https://x.com:port",
            "https://a*b.com",
            "https://user@x.com",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }
}
