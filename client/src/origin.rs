//! [`Origin`]: where a client connects, parsed from its URL.

use crate::Error;

/// Where a client connects: scheme, host and port from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: &'static str,
    /// As in the URL's authority: lowercase, IPv6 in brackets.
    host: String,
    /// For `connect`: no brackets.
    pub(crate) connect_host: String,
    port: u16,
    /// `host[:port]`, the port only if not the default.
    authority: String,
}

impl Origin {
    /// Parses an `http://` or `https://` URL; its path and query are ignored.
    pub(crate) fn parse(url: &str) -> Result<Origin, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let scheme = match parsed.scheme() {
            "http" => "http",
            "https" => "https",
            other => {
                return Err(Error::UnsupportedScheme {
                    url: url.to_owned(),
                    scheme: other.to_owned(),
                });
            }
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("user names and passwords are not supported".into()));
        }
        let (host, connect_host) = match parsed.host() {
            Some(url::Host::Domain(d)) => (d.to_ascii_lowercase(), d.to_ascii_lowercase()),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), ip.to_string()),
            Some(url::Host::Ipv6(ip)) => (format!("[{ip}]"), ip.to_string()),
            None => return Err(invalid("it has no host".into())),
        };
        let authority = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        Ok(Origin {
            scheme,
            port: parsed
                .port_or_known_default()
                .unwrap_or(if scheme == "https" { 443 } else { 80 }),
            host,
            connect_host,
            authority,
        })
    }

    pub(crate) fn scheme(&self) -> &str {
        self.scheme
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn default_port(&self) -> u16 {
        if self.scheme == "https" { 443 } else { 80 }
    }

    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    pub(crate) fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origins() {
        let o = Origin::parse("http://LocalHost:8080/http2Service?x=1").unwrap();
        assert_eq!(
            (o.host(), o.port(), o.authority()),
            ("localhost", 8080, "localhost:8080")
        );
        let o = Origin::parse("http://127.0.0.1:80/").unwrap();
        assert_eq!((o.port(), o.authority()), (80, "127.0.0.1"));
        let o = Origin::parse("http://[::1]:9000").unwrap();
        assert_eq!((o.host(), o.connect_host.as_str()), ("[::1]", "::1"));
        assert_eq!(o.authority(), "[::1]:9000");
    }

    #[test]
    fn rejects_bad_urls() {
        for url in ["not a url", "http://", "127.0.0.1:8080", "http://a:99999/"] {
            assert!(
                matches!(
                    Origin::parse(url),
                    Err(Error::InvalidUrl { .. } | Error::UnsupportedScheme { .. })
                ),
                "{url}"
            );
        }
        assert!(matches!(
            Origin::parse("ftp://example.com/"),
            Err(Error::UnsupportedScheme { scheme, .. }) if scheme == "ftp"
        ));
        let o = Origin::parse("https://Example.com/x").unwrap();
        assert_eq!((o.scheme(), o.port(), o.authority()), ("https", 443, "example.com"));
        assert!(matches!(
            Origin::parse("http://user:pw@example.com/"),
            Err(Error::InvalidUrl { .. })
        ));
    }
}
