//! `link: <...>; rel=preload` response headers (RFC 8288, and the W3C
//! preload spec's `nopush`): the same-origin paths a response asks the client
//! to preload, which the host may push (as Apache's `H2Push` and h2o do).

use url::Url;

/// One preload target of a response.
#[derive(Debug, PartialEq, Eq)]
pub enum Preload {
    /// A path and query on the request's own origin: may be pushed.
    Local(String),
    /// A target on another origin (or not a URL): never pushed.
    Foreign(String),
}

/// The `rel=preload` targets of `headers`' `link` fields that do not say
/// `nopush`, in order and without repeats, resolved against the request
/// (`scheme://authority` + `path`).
pub fn targets(headers: &http::HeaderMap, scheme: &str, authority: &str, path: &str) -> Vec<Preload> {
    let base = Url::parse(&format!("{scheme}://{authority}{path}")).ok();
    let mut out = Vec::new();
    for value in headers.get_all(http::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in split_links(value) {
            let Some((target, params)) = parse_link(link) else {
                continue;
            };
            let preload = params.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("rel")
                    && v.as_deref()
                        .is_some_and(|v| v.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("preload")))
            });
            let nopush = params.iter().any(|(k, _)| k.eq_ignore_ascii_case("nopush"));
            if !preload || nopush {
                continue;
            }
            let resolved = match base.as_ref().and_then(|b| b.join(target).ok()) {
                Some(url) if base.as_ref().is_some_and(|b| b.origin() == url.origin()) => {
                    let mut local = url.path().to_string();
                    if let Some(q) = url.query() {
                        local.push('?');
                        local.push_str(q);
                    }
                    Preload::Local(local)
                }
                _ => Preload::Foreign(target.to_string()),
            };
            if !out.contains(&resolved) {
                out.push(resolved);
            }
        }
    }
    out
}

/// Splits a `link` field value at the commas between links (not those
/// inside `<...>` or a quoted string).
fn split_links(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_uri, mut in_quote, mut escaped) = (0, false, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' if !in_uri => in_quote = !in_quote,
            '<' if !in_quote => in_uri = true,
            '>' if !in_quote => in_uri = false,
            ',' if !in_uri && !in_quote => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// A link's parameters: name, and value unless it is a bare flag.
type Params = Vec<(String, Option<String>)>;

/// `<target>; k=v; k="v"; flag` → the target and its parameters.
fn parse_link(link: &str) -> Option<(&str, Params)> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let end = rest.find('>')?;
    let target = rest[..end].trim();
    let mut params = Vec::new();
    for param in rest[end + 1..].split(';') {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        match param.split_once('=') {
            Some((k, v)) => {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
                    .to_string();
                params.push((k.trim().to_string(), Some(v)));
            }
            None => params.push((param.to_string(), None)),
        }
    }
    Some((target, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[&str]) -> Vec<Preload> {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append(http::header::LINK, v.parse().unwrap());
        }
        targets(&headers, "https", "example.com", "/dir/page?x=1")
    }

    #[test]
    fn preload_links_resolve_against_the_request() {
        assert_eq!(
            of(&["</a.css>; rel=preload; as=style, <b.js>; rel=\"preload\"; as=script"]),
            vec![Preload::Local("/a.css".into()), Preload::Local("/dir/b.js".into())]
        );
        assert_eq!(
            of(&["<https://example.com/c.css?v=2>; rel=preload"]),
            vec![Preload::Local("/c.css?v=2".into())]
        );
    }

    #[test]
    fn nopush_other_rels_and_repeats_are_skipped() {
        assert_eq!(
            of(&[
                "</a.css>; rel=preload; nopush",
                "</b.css>; rel=stylesheet",
                "</c.css>; rel=\"preload prefetch\", </c.css>; rel=preload",
            ]),
            vec![Preload::Local("/c.css".into())]
        );
    }

    #[test]
    fn other_origins_are_foreign() {
        assert_eq!(
            of(&[
                "<https://cdn.example.net/x.js>; rel=preload",
                "<http://example.com/y.js>; rel=preload",
                "<//other.org/z.js>; rel=preload",
                "<https://example.com:8443/w.js>; rel=preload",
            ]),
            vec![
                Preload::Foreign("https://cdn.example.net/x.js".into()),
                Preload::Foreign("http://example.com/y.js".into()),
                Preload::Foreign("//other.org/z.js".into()),
                Preload::Foreign("https://example.com:8443/w.js".into()),
            ]
        );
    }

    #[test]
    fn commas_inside_targets_and_quotes_do_not_split() {
        assert_eq!(
            of(&["</a,b.css>; rel=preload; title=\"x, y\", </c.css>; rel=preload"]),
            vec![Preload::Local("/a,b.css".into()), Preload::Local("/c.css".into())]
        );
    }
}
