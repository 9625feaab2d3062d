//! Routes: which tenant serves a request, by its authority (host name,
//! case-insensitive, port ignored) and path prefix (on segment boundaries),
//! the longest match winning.

/// `host` or `host/prefix`, as written in a tenant's `routes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    host: String,
    /// Empty, or `/seg[/seg...]` without a trailing slash.
    prefix: String,
}

impl Route {
    /// Parses `shop.localhost` or `localhost/shop` (a trailing `/` is ignored).
    pub fn parse(s: &str) -> Result<Route, String> {
        let s = s.trim();
        let (host, prefix) = match s.find('/') {
            Some(i) => (&s[..i], s[i..].trim_end_matches('/')),
            None => (s, ""),
        };
        if host.is_empty() {
            return Err("no host name".into());
        }
        if let Some(inside) = host.strip_prefix('[') {
            // An IPv6 literal: `[addr]` and nothing after it.
            match inside.split_once(']') {
                Some((addr, "")) if !addr.is_empty() && !addr.contains(['[', ']']) => {}
                Some((_, rest)) if rest.starts_with(':') => {
                    return Err("ports are ignored when routing: leave the port out".into());
                }
                _ => return Err("not a host name".into()),
            }
        } else if host.contains(':') {
            return Err("ports are ignored when routing: leave the port out".into());
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'))
        {
            return Err("not a host name".into());
        }
        if prefix.contains(['?', '#', ' ']) || prefix.contains("//") {
            return Err("the path prefix may not hold '?', '#', spaces or '//'".into());
        }
        Ok(Route {
            host: host.to_ascii_lowercase(),
            prefix: prefix.to_string(),
        })
    }

    /// How well this route matches (`None`: not at all); longer prefixes
    /// match better.
    fn matches(&self, host: &str, path: &str) -> Option<usize> {
        if self.host != host {
            return None;
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        if self.prefix.is_empty() {
            return Some(0);
        }
        let rest = path.strip_prefix(&self.prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(self.prefix.len())
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.host, self.prefix)
    }
}

/// The host part of an authority, lowercase, without port or user info.
pub fn host_of(authority: &str) -> String {
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    host.to_ascii_lowercase()
}

/// Picks, among `routes` (tenant index, route), the best match for a
/// request to `authority` and `path`.
pub fn best<'a>(routes: impl IntoIterator<Item = (usize, &'a Route)>, authority: &str, path: &str) -> Option<usize> {
    let host = host_of(authority);
    routes
        .into_iter()
        .filter_map(|(tenant, route)| route.matches(&host, path).map(|len| (len, tenant)))
        .max_by_key(|(len, _)| *len)
        .map(|(_, tenant)| tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(specs: &[(usize, &str)]) -> Vec<(usize, Route)> {
        specs.iter().map(|(t, s)| (*t, Route::parse(s).unwrap())).collect()
    }

    fn pick(table: &[(usize, Route)], authority: &str, path: &str) -> Option<usize> {
        best(table.iter().map(|(t, r)| (*t, r)), authority, path)
    }

    #[test]
    fn longest_prefix_on_segment_boundaries_wins() {
        let table = routes(&[
            (0, "localhost"),
            (1, "localhost/shop"),
            (2, "localhost/shop/admin"),
            (3, "Shop.Localhost"),
        ]);
        assert_eq!(pick(&table, "localhost:7090", "/"), Some(0));
        assert_eq!(pick(&table, "localhost", "/shop"), Some(1));
        assert_eq!(pick(&table, "LOCALHOST:1", "/shop/cart?x=1"), Some(1));
        assert_eq!(
            pick(&table, "localhost", "/shopping"),
            Some(0),
            "not a segment boundary"
        );
        assert_eq!(pick(&table, "localhost", "/shop/admin/users"), Some(2));
        assert_eq!(pick(&table, "shop.localhost:8443", "/anything"), Some(3));
        assert_eq!(pick(&table, "other.test", "/"), None);
    }

    #[test]
    fn bad_routes_are_refused() {
        for bad in [
            "",
            "/shop",
            "localhost:7090",
            "local host",
            "localhost/a?b",
            "localhost//x",
            // Found by the `route` fuzz target: a bracketed host with a
            // port, or anything after the bracket, never matched.
            "[::1]:8080",
            "[a]x",
            "[]",
            "[::1",
        ] {
            assert!(Route::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Route::parse("[::1]/api").is_ok());
        assert_eq!(
            Route::parse("localhost/shop/").unwrap(),
            Route::parse("LocalHost/shop").unwrap()
        );
    }

    #[test]
    fn hosts_lose_ports_and_user_info() {
        assert_eq!(host_of("User@Example.com:443"), "example.com");
        assert_eq!(host_of("[::1]:8080"), "[::1]");
        assert_eq!(host_of("127.0.0.1"), "127.0.0.1");
    }
}
