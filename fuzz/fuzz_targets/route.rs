//! Routes (`push_host::tenants::route`: `Route::parse`, `best`, `host_of`)
//! never panic on any route or request, and a route that parses serves the
//! request it spells: `host/prefix` matches authority `host` and path
//! `/prefix` (what the module promises: host case-insensitive, ports refused
//! in routes and ignored in requests, prefixes on segment boundaries). The
//! route `best` picks for a request is one of those given, on the request's
//! host.
//!
//! Input: one route per line (`localhost`, `example.com/api`); each line is
//! also a request, its authority up to the first `/`, its path from there.

#![no_main]

use libfuzzer_sys::fuzz_target;
use push_host::tenants::route::{self, Route};

/// A line as a request: authority, path.
fn request(line: &str) -> (&str, &str) {
    line.split_at(line.find('/').unwrap_or(line.len()))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let routes: Vec<(usize, Route)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| Some((i, Route::parse(line).ok()?)))
        .collect();

    for (i, route) in &routes {
        let (authority, path) = request(lines[*i].trim());
        let path = if path.is_empty() { "/" } else { path };
        assert_eq!(
            route::best([(*i, route)], authority, path),
            Some(*i),
            "route {route} (from {:?}) does not match authority {authority:?}, path {path:?}",
            lines[*i]
        );
    }

    for line in &lines {
        let (authority, path) = request(line);
        if let Some(i) = route::best(routes.iter().map(|(i, r)| (*i, r)), authority, path) {
            let host = route::host_of(authority);
            assert!(
                routes.iter().any(|(j, r)| *j == i && r.to_string().starts_with(&host)),
                "{line:?} went to route {i}, not on host {host:?}"
            );
        }
    }
});
