//! Header-list helpers shared by [`Request`](crate::Request),
//! [`Response`](crate::Response) and [`PushPromise`](crate::PushPromise).

/// One header field: a lowercase name and the raw value bytes, as in the WIT
/// `headers` type.
pub type Header = (String, Vec<u8>);

/// The first value of `name` (compared ASCII case-insensitively).
pub(crate) fn find<'a>(headers: &'a [Header], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// Every value of `name` (compared ASCII case-insensitively), in order.
pub(crate) fn find_all<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// A header field with its name lowercased (HTTP/2 requires lowercase names).
/// Nothing else is checked here: the host validates names and values.
pub(crate) fn field(name: &str, value: impl Into<Vec<u8>>) -> Header {
    (name.to_ascii_lowercase(), value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        let h = vec![field("X-A", "1"), field("x-b", "2"), field("x-a", "3")];
        assert_eq!(h[0].0, "x-a");
        assert_eq!(find(&h, "X-a"), Some(&b"1"[..]));
        assert_eq!(find(&h, "x-c"), None);
        assert_eq!(find_all(&h, "x-A").collect::<Vec<_>>(), [b"1", b"3"]);
    }
}
