//! One entry of a tenant's `allowed_outbound_hosts` (`--allow-outbound-host`),
//! spelled as Spin spells it: `https://api.example.com`,
//! `http://localhost:8080`, `https://*.example.com`, `*://example.com:*`.
//! What the operator grants; `runtime::wasi_http::outbound` enforces it.

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
